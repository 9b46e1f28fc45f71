import ArgumentParser
import Foundation
import TollgateCore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke gateway keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
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

        func run() async throws {
            let request = self.request
            let (key, secret) = try await withKeyStore(self.options) { store in try await store.create(request) }
            print("created key \(key.id) (\(key.name)\(key.team.map { ", team \($0)" } ?? ""))")
            print("store the secret now: it is not kept and cannot be shown again")
            print(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List gateway keys (never their secrets).")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let rows = try await withKeyStore(self.options) { store in try await store.list() }
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

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a gateway key by id. A running gateway stops accepting it within seconds.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The key id (from `tollgate keys list`).") var id: String

        func run() async throws {
            let id = self.id
            guard try await withKeyStore(self.options, { store in try await store.revoke(id: id) }) else {
                throw CommandFailure.runtime("no key with id '\(self.id)'")
            }
            print("revoked \(self.id)")
        }
    }
}

/// Runs `body` with the key store the config names: the data dir's, or PostgreSQL's with
/// `ledger.url` (TOLLGATE_LEDGER_URL through the shipped config).
func withKeyStore<Result: Sendable>(_ options: ConfigOption, _ body: @Sendable (KeyStore) async throws -> Result) async throws -> Result {
    let config = try options.loadOrDefaults(environment: ProcessInfo.processInfo.environment)
    do {
        return try await ConfiguredLedger.keys(config, body)
    } catch let failure as CommandFailure {
        throw failure
    } catch {
        throw CommandFailure.runtime("key store '\(config.ledger.url?.description ?? config.dataDirectory)': \(error)")
    }
}
