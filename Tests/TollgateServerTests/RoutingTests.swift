import Foundation
import NIOCore
import Testing
import TollgateCore
import TollgateTestSupport
import TollgateUpstream

@Suite struct RoutingTests {
    static let longCodePrompt = """
        Analyze this function step by step, find the root cause of the crash and refactor it:
        ```swift
        func parse(_ input: String) -> [Int] {
            var result: [Int] = []
            for part in input.split(separator: ",") { result.append(Int(part)!) }
            return result
        }
        ```
        and this one too:
        ```swift
        func average(_ values: [Int]) -> Double { Double(values.reduce(0, +)) / Double(values.count) }
        ```
        """ + String(repeating: " The service calls these in a loop with user input from a CSV upload.", count: 40)

    func ask(_ gateway: GatewayHarness, model: String, prompt: String) async throws -> TestHTTPClient.Reply {
        let body = try JSONSerialization.data(withJSONObject: ["model": model, "messages": [["role": "user", "content": prompt]]])
        return try await gateway.http.send("POST", "/v1/chat/completions", headers: gateway.auth, body: body)
    }

    @Test func autoSendsTrivialAndCodeHeavyPromptsToDifferentModels() async throws {
        // The shipped rules, against a fake provider serving the models they name.
        try await GatewayHarness.run(configure: { $0.routesDirectory = GatewayHarness.repositoryRoot.appendingPathComponent("routes").path }) { gateway in
            let trivial = try await ask(gateway, model: "auto", prompt: "What is the capital of France?")
            #expect(trivial.status == 200)
            #expect(trivial.header("X-Tollgate-Route") == "auto-simple")
            #expect(trivial.header("X-Tollgate-Model") == "gpt-5-mini")

            let heavy = try await ask(gateway, model: "auto", prompt: Self.longCodePrompt)
            #expect(heavy.status == 200)
            #expect(heavy.header("X-Tollgate-Route") == "auto-complex")
            #expect(heavy.header("X-Tollgate-Model") == "gpt-5")
            let models = gateway.provider.received.compactMap { $0.json?["model"] as? String }
            #expect(models == ["gpt-5-mini", "gpt-5"])

            // A concrete model passes through untouched, byte for byte.
            let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"prove it step by step"}]}"#
            let concrete = try await gateway.chat(body)
            #expect(concrete.header("X-Tollgate-Model") == "gpt-4o")
            #expect(gateway.provider.received.last?.body == Data(body.utf8))

            // The auto-simple route caps max_tokens at 4096.
            _ = try await gateway.chat(#"{"model":"auto","max_tokens":100000,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(gateway.provider.received.last?.json?["max_tokens"] as? Int == 4096)

            let aliases = try await gateway.http.send("GET", "/v1/models", headers: gateway.auth)
            #expect(aliases.text.contains(#""id":"auto""#))
        }
    }

    @Test func reloadUnderLoadIsAtomicAndBadFilesAreRejected() async throws {
        try await GatewayHarness.run { gateway in
            try gateway.writeRoutes("routes:\n  - { name: v1, default: true, target: passthrough }\n")
            #expect(try await gateway.adminReload().status == 200)

            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var statuses: [Int] = []
                        for _ in 0..<40 {
                            statuses.append(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).status)
                        }
                        return statuses
                    }
                }
                group.addTask {
                    for round in 0..<10 {
                        let name = "v\(round + 2)"
                        try gateway.writeRoutes("routes:\n  - { name: \(name), default: true, target: passthrough }\n")
                        #expect(try await gateway.adminReload().status == 200)
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return []
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(results.count == 320)
            #expect(results.allSatisfy { $0 == 200 })
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).header("X-Tollgate-Route") == "v11")

            // A directory that cannot be read (here: replaced by a file; in the attack, out of
            // file descriptors) is refused like a bad file, never taken for "no rules".
            try FileManager.default.removeItem(atPath: gateway.routesDirectory)
            #expect(FileManager.default.createFile(atPath: gateway.routesDirectory, contents: Data("not a directory".utf8)))
            let unreadable = try await gateway.adminReload()
            #expect(unreadable.status == 422 && unreadable.errorField.message?.contains("cannot read the routes directory") == true)
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).header("X-Tollgate-Route") == "v11")
            try FileManager.default.removeItem(atPath: gateway.routesDirectory)

            // A broken file is refused with file, line and reason; v11 keeps serving.
            try gateway.writeRoutes("routes:\n  - { name: broken, default: true, target: passthrough, colour: red }\n")
            let rejected = try await gateway.adminReload()
            #expect(rejected.status == 422)
            #expect(rejected.errorField.message?.contains("10-test.yaml:2") == true)
            #expect(rejected.errorField.message?.contains("colour") == true)
            #expect(try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).header("X-Tollgate-Route") == "v11")

            // The admin API wants the admin key.
            let anonymous = try await gateway.http.send("POST", "/admin/reload", headers: gateway.auth)
            #expect(anonymous.status == 401)
        }
    }

    @Test func fileChangesAreReloadedWithoutASignal() async throws {
        try await GatewayHarness.run { gateway in
            try gateway.writeRoutes("routes:\n  - { name: before, default: true, target: passthrough }\n")
            #expect(try await gateway.adminReload().status == 200)
            try gateway.writeRoutes("routes:\n  - { name: after-edit, default: true, target: passthrough, caps: { max_tokens: 5 } }\n")
            var route = ""
            for _ in 0..<50 where route != "after-edit" {
                try await Task.sleep(for: .milliseconds(100))
                route = try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).header("X-Tollgate-Route") ?? ""
            }
            #expect(route == "after-edit")
            #expect(gateway.provider.received.last?.json?["max_completion_tokens"] as? Int == 5)
        }
    }

    @Test func deploymentsSpreadByWeightAcrossProviders() async throws {
        try await GatewayHarness.run(configure: { config in
            config.cache.mode = .off  // the same request, repeated on purpose
            config.providers["openai-b"] = config.providers["openai"]
            config.providers["openai-b"]?.headers = ["X-Deployment": "b"]
        }) { gateway in
            try gateway.writeRoutes("""
                routes:
                  - name: balanced
                    when: { feature: model, eq: gpt-4o }
                    target: { deployments: [ { model: gpt-4o, provider: openai, weight: 3 }, { model: gpt-4o, provider: openai-b, weight: 1 } ] }
                  - { name: default, default: true, target: passthrough }
                """)
            #expect(try await gateway.adminReload().status == 200)
            for _ in 0..<8 {
                let reply = try await gateway.chat(#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(reply.header("X-Tollgate-Route") == "balanced")
            }
            let onB = gateway.provider.received.filter { $0.headers["x-deployment"] == "b" }.count
            #expect(onB == 2)
        }
    }

    @Test func badTagHeaderIs400AndAliasesNeedNoProvider() async throws {
        try await GatewayHarness.run { gateway in
            let bad = try await gateway.chat(
                #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("X-Tollgate-Tag", String(repeating: "x", count: 100) + "=1")]
            )
            #expect(bad.status == 400)
            #expect(bad.errorField.message?.contains("X-Tollgate-Tag") == true)
            // Without rules declaring it, `auto` is just an unknown model.
            let unknownAlias = try await gateway.chat(#"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(unknownAlias.status == 404)
        }
    }
}
