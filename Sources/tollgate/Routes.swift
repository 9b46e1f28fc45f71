import ArgumentParser
import Foundation
import TollgateCore
import TollgateServer

struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate routing rules and show how a request would be routed.",
        subcommands: [Check.self, Explain.self, Replay.self]
    )

    struct RulesOptions: ParsableArguments {
        @OptionGroup var options: ConfigOption
        @Option(help: "Routes directory to use instead of routes_dir from the config.") var rules: String?

        func load() throws -> (config: GatewayConfig, rules: CompiledRoutingRules) {
            let environment = ProcessInfo.processInfo.environment
            var config = try self.options.load(environment: environment).config
            if let rules { config.routesDirectory = rules }
            do {
                return (config, try RoutingRulesLoader.load(config: config, environment: environment))
            } catch {
                throw CommandFailure.usage("invalid routing rules: \(error)")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate routes/ against tollgate.yaml (exit 2 with file:line: reason on errors).")
        @OptionGroup var rulesOptions: RulesOptions

        func run() throws {
            let (config, rules) = try self.rulesOptions.load()
            let files = rules.files.isEmpty ? "the built-in default" : rules.files.joined(separator: ", ")
            print("ok: \(rules.routes.count + 1) routes from \(files) (routes dir: \(config.routesDirectory))")
            if !rules.aliases.isEmpty { print("aliases: \(rules.aliases.sorted().joined(separator: ", "))") }
            for route in rules.routes + [rules.defaultRoute] {
                let target = route.target.model ?? "passthrough"
                print("  \(route.name)\(route.isDefault ? " (default)" : "") -> \(target)")
            }
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the features of a request, every route's verdict, and the chosen route, model and fallbacks.")
        @OptionGroup var rulesOptions: RulesOptions
        @Option(help: "The model or alias the app asks for.") var model: String
        @Option(help: "The last user message.") var prompt: String
        @Option(help: "A system prompt.") var system: String?
        @Option(help: "The end user.") var user: String?
        @Option(help: "A gateway key id or name (for key, team and user features).") var key: String?
        @Option(help: "An X-Tollgate-Tag value, e.g. 'env=prod, beta'.") var tag: [String] = []
        @Option(name: .customLong("max-tokens"), help: "max_tokens of the request.") var maxTokens: Int?

        func run() async throws {
            let (config, rules) = try self.rulesOptions.load()
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: .system, content: .text(system))) }
            messages.append(ChatMessage(role: .user, content: .text(self.prompt)))
            var request = ChatCompletionRequest(model: self.model, messages: messages)
            request.maxTokens = self.maxTokens
            let tags: RoutingTags
            do {
                tags = try RoutingTags.parse(headerValues: self.tag)
            } catch {
                throw CommandFailure.usage("--tag: \(error.reason)")
            }
            let features = RequestFeatures(
                request: request, key: try await self.findKey(config), endUser: self.user, tags: tags, timeZone: .current,
                tokenizers: try? Tokenizers.shared()  // without the rank files: the byte-length estimate
            )
            print(rules.explain(features))
        }

        private func findKey(_ config: GatewayConfig) async throws -> GatewayKey? {
            guard let key else { return nil }
            let environment = ProcessInfo.processInfo.environment
            let declared = (try? DeclaredKeysFile.load(budgetsDirectory: config.budgetsDirectory, environment: environment)) ?? []
            if let match = declared.first(where: { $0.key.name == key || $0.key.id == key }) { return match.key }
            let stored = try await ConfiguredLedger.keys(config) { store in try await store.list() }.map(\.key)
            guard let match = stored.first(where: { $0.id == key || $0.name == key }) else {
                throw CommandFailure.usage("no gateway key with id or name '\(key)'")
            }
            return match
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-run the ledger's recorded requests through routing rules and show what would move and what it would cost.",
            discussion: """
                Each request's features were recorded without its text: keyword lists and patterns as whether they matched. \
                A list or pattern that is new or edited in --rules was not recorded; requests that read one count as \
                undetermined (taken as no match). Costs price each request's recorded tokens on both models at today's \
                prices (budgets/prices.yaml): another model would write a different number of tokens, so it is an estimate.
                """
        )
        enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

        @OptionGroup var rulesOptions: RulesOptions
        @Option(help: "How far back: 7d, 24h, 90m, or a day (YYYY-MM-DD, in the gateway's time zone).") var since: String = "7d"
        @Option(help: "table or json.") var format: Format = .table

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let (config, rules) = try self.rulesOptions.load()
            let now = Date()
            guard let start = Self.start(self.since, now: now, timeZone: config.timeZone) else {
                throw CommandFailure.usage("--since '\(self.since)': use a number with d, h or m (7d, 24h, 90m) or a day (YYYY-MM-DD)")
            }
            let prices: PriceBook
            do {
                prices = try PriceBook.load(budgetsDirectory: config.budgetsDirectory, config: config, environment: environment)
            } catch {
                throw CommandFailure.usage("\(error)")
            }
            let replay: RouteReplay
            do {
                replay = try await ConfiguredLedger.read(config) { ledger in
                    guard let ledger else { throw CommandFailure.runtime("no ledger at '\(config.ledgerPath)'") }
                    var replay = RouteReplay(rules: rules, prices: prices)
                    try await ledger.forEachEntry(fromMs: Int64(start.timeIntervalSince1970 * 1000), toMs: nil, limit: nil) { replay.add($0) }
                    return replay
                }
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure.runtime("cannot read the ledger '\(config.ledgerPath)': \(error)")
            }
            switch self.format {
            case .json: print(replay.json(), terminator: "")
            case .table:
                let files = rules.files.isEmpty ? "the built-in default rules" : rules.files.joined(separator: ", ")
                let formatter = ISO8601DateFormatter()
                formatter.timeZone = config.timeZone
                print(replay.table(rulesDescription: files, period: "since \(formatter.string(from: start))"), terminator: "")
            }
        }

        /// The first instant replayed: `now` minus a duration, or the start of a local day.
        static func start(_ text: String, now: Date, timeZone: TimeZone) -> Date? {
            if let day = LedgerDay(text) { return day.start(in: timeZone) }
            guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0, amount.isFinite else { return nil }
            let seconds: Double
            switch unit {
            case "d": seconds = amount * 86_400
            case "h": seconds = amount * 3600
            case "m": seconds = amount * 60
            default: return nil
            }
            return now.addingTimeInterval(-seconds)
        }
    }
}
