import ArgumentParser
import Foundation
import TollgateCore

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke gateway keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a gateway key and print its secret (shown once, on the last line)."
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "A name people recognise (app or owner).") var name: String
        @Option(help: "Team the key's spend belongs to.") var team: String?
        @Option(help: "End user the key belongs to.") var user: String?
        @Option(help: "Comma-separated models or patterns (e.g. gpt-4o-mini,claude-haiku*). Default: all.") var models: String?
        @Option(help: "Requests per minute.") var rpm: Int?
        @Option(help: "Tokens per minute.") var tpm: Int?
        @Option(name: .customLong("max-concurrent"), help: "Most requests in flight at once.") var maxConcurrent: Int?
        @Option(name: .customLong("daily-budget"), help: "Daily budget in USD.") var dailyBudget: Double?

        var request: KeyRequest {
            KeyRequest(
                name: self.name, team: self.team, user: self.user,
                allowedModels: self.models?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                requestsPerMinute: self.rpm, tokensPerMinute: self.tpm, maxConcurrent: self.maxConcurrent, dailyBudgetUSD: self.dailyBudget
            )
        }

        func validate() throws {
            if let (field, reason) = self.request.problem {
                let options = ["max_concurrent": "max-concurrent", "daily_budget_usd": "daily-budget"]
                throw ValidationError("--\(options[field] ?? field) \(reason)")
            }
        }

        func run() throws {
            let store = try openKeyStore(self.options)
            let (key, secret) = try store.create(self.request)
            print("created key \(key.id) (\(key.name)\(key.team.map { ", team \($0)" } ?? ""))")
            print("store the secret now: it is not kept and cannot be shown again")
            print(secret)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List gateway keys (never their secrets).")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let store = try openKeyStore(self.options)
            let rows = try store.list()
            let header = ["ID", "PREFIX", "NAME", "TEAM", "USER", "MODELS", "RPM", "TPM", "CONC", "BUDGET/DAY", "CREATED", "STATUS"]
            var table = [header]
            let formatter = ISO8601DateFormatter()
            for (key, prefix) in rows {
                table.append([
                    key.id, prefix + "…", key.name, key.team ?? "-", key.user ?? "-",
                    key.allowedModels?.joined(separator: ",") ?? "*",
                    key.requestsPerMinute.map(String.init) ?? "-", key.tokensPerMinute.map(String.init) ?? "-",
                    key.maxConcurrent.map(String.init) ?? "-",
                    key.dailyBudgetUSD.map { String(format: "$%.2f", $0) } ?? "-",
                    formatter.string(from: key.createdAt), key.isRevoked ? "revoked" : "active",
                ])
            }
            let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
            for row in table {
                print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a gateway key by id. A running gateway stops accepting it within seconds.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The key id (from `tollgate keys list`).") var id: String

        func run() throws {
            let store = try openKeyStore(self.options)
            guard try store.revoke(id: self.id) else {
                throw CommandFailure.runtime("no key with id '\(self.id)'")
            }
            print("revoked \(self.id)")
        }
    }
}

/// The key store of the data dir named by the config (or TOLLGATE_DATA_DIR through it).
func openKeyStore(_ options: ConfigOption) throws -> KeyStore {
    let dataDirectory = try options.loadOrDefaults(environment: ProcessInfo.processInfo.environment).dataDirectory
    do {
        return try KeyStore(directory: dataDirectory)
    } catch {
        throw CommandFailure.runtime("cannot open the key store in '\(dataDirectory)': \(error)")
    }
}
