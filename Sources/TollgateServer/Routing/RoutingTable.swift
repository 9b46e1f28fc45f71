import Foundation
import Logging
import Synchronization
import TollgateCore

/// The routing rules in force, swapped whole on reload. A request takes one snapshot at its
/// start and keeps it, so a reload never changes the rules under an in-flight request.
final class RoutingTable: Sendable {
    private let current: Mutex<CompiledRoutingRules>
    private let loader: @Sendable () throws(ConfigError) -> CompiledRoutingRules
    /// Deployment choice, health and in-flight counts, kept across reloads.
    let balancer = DeploymentBalancer()

    init(loader: @escaping @Sendable () throws(ConfigError) -> CompiledRoutingRules) throws(ConfigError) {
        self.loader = loader
        self.current = Mutex(try loader())
    }

    /// The rules a new request uses.
    var rules: CompiledRoutingRules { self.current.withLock { $0 } }

    /// Loads the rules again and logs the outcome; on an error the current rules stay in force.
    @discardableResult
    func reload(reason: String, logger: Logger) throws(ConfigError) -> CompiledRoutingRules {
        do {
            let fresh = try self.loader()
            self.current.withLock { $0 = fresh }
            logger.notice("routing rules reloaded", metadata: ["reason": "\(reason)", "routes": "\(fresh.routes.count + 1)"])
            return fresh
        } catch {
            logger.error("routing rules rejected; the previous rules keep serving", metadata: ["reason": "\(reason)", "error": "\(error)"])
            throw error
        }
    }
}

/// Loads `routes/` and checks every model and provider it names against `tollgate.yaml`.
/// Without a routes directory (or without files in it) a built-in rule passes every concrete
/// model through unchanged.
public enum RoutingRulesLoader {
    public static let builtInDefault = """
        routes:
          - name: default
            default: true
            target: passthrough
        """

    public static func load(
        config: GatewayConfig,
        environment: [String: String]
    ) throws(ConfigError) -> CompiledRoutingRules {
        let directory = config.routesDirectory
        var rules: CompiledRoutingRules
        if Self.ruleFiles(in: directory).isEmpty {
            rules = try CompiledRoutingRules.compile(sources: [("<built-in default route>", Self.builtInDefault)], environment: environment)
        } else {
            rules = try CompiledRoutingRules.load(directory: directory, environment: environment)
        }
        rules.templates = try PromptTemplates.load(directory: config.promptsDirectory)
        let registry = ProviderRegistry(config: config, environment: environment)
        try rules.checkReferences(
            isKnownModel: { registry.resolve(model: $0) != nil },
            isKnownProvider: { config.providers[$0] != nil }
        )
        return rules
    }

    /// The YAML files of a routes directory, in load order.
    static func ruleFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    /// Names, sizes and modification times of the rule files: changes when any file does.
    static func fingerprint(of directory: String) -> [String] {
        self.ruleFiles(in: directory).map { name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name))
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            return "\(name):\(size):\(modified)"
        }
    }
}
