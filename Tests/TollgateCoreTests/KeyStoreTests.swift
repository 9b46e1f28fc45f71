import Foundation
import Testing
@testable import TollgateCore

@Suite struct KeyStoreTests {
    func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-keys-\(UUID().uuidString)").path
        return path
    }

    @Test func createLookupListRevoke() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try KeyStore(directory: directory)
        let (key, secret) = try store.create(name: "app", team: "growth", allowedModels: ["gpt-4o-mini", "gpt-5*"], requestsPerMinute: 60, dailyBudgetUSD: 5)
        #expect(secret.hasPrefix("tg-"))
        #expect(secret.count == 43)

        let found = try #require(try await store.lookup(hash: KeySecret.hash(secret)))
        #expect(found.id == key.id)
        #expect(found.team == "growth")
        #expect(found.allowedModels == ["gpt-4o-mini", "gpt-5*"])
        #expect(found.allows(model: "gpt-5-mini"))
        #expect(!found.allows(model: "gpt-4o"))
        #expect(try await store.lookup(hash: KeySecret.hash(secret + "x")) == nil)

        // The secret itself is nowhere in the database file.
        let contents = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("keys.sqlite"))
        #expect(contents.range(of: Data(secret.utf8)) == nil)

        let listed = try await store.list()
        #expect(listed.count == 1)
        #expect(listed[0].secretPrefix == String(secret.prefix(9)))

        #expect(try await store.revoke(id: key.id))
        #expect(try await store.lookup(hash: KeySecret.hash(secret))?.isRevoked == true)
        #expect(try await !store.revoke(id: "key_missing"))

        // A second store on the same directory (another process) sees the same keys.
        let other = try KeyStore(directory: directory)
        #expect(try await other.list().count == 1)
    }

    @Test func secretsAreUniqueAndUniform() {
        let secrets = (0..<200).map { _ in KeySecret.generate() }
        #expect(Set(secrets).count == 200)
        let allowed = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        #expect(secrets.allSatisfy { $0.dropFirst(3).allSatisfy(allowed.contains) })
        #expect(KeySecret.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func declaredKeys() throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let yaml = """
            keys:
              - name: bot
                team: support
                models: [gpt-4o-mini]
                secret_env: BOT_KEY
              - name: batch
                secret_sha256: \(KeySecret.hash("tg-batch-secret"))
              - name: unset
                secret_env: NOT_SET
            """
        try yaml.write(toFile: directory + "/keys.yaml", atomically: true, encoding: .utf8)
        let keys = try DeclaredKeysFile.load(budgetsDirectory: directory, environment: ["BOT_KEY": "tg-bot-secret"])
        #expect(keys.map(\.key.name) == ["bot", "batch"])
        #expect(keys[0].digest == KeySecret.digest("tg-bot-secret"))
        #expect(keys[1].digest.hex == KeySecret.hash("tg-batch-secret"))
        #expect(keys[0].key.source == .config)

        try "keys:\n  - name: x\n    secret_sha256: nothex\n".write(toFile: directory + "/keys.yaml", atomically: true, encoding: .utf8)
        let error = try #require(throws: ConfigError.self) {
            try DeclaredKeysFile.load(budgetsDirectory: directory, environment: [:])
        }
        #expect(error.line == 3)
    }
}
