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
        if try Self.ruleFiles(in: directory).isEmpty {
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
    /// No directory means no files (the built-in default applies); a directory that cannot be
    /// read (out of file descriptors, permissions, not a directory) is an error, so that a reload
    /// keeps the rules in force instead of falling back to the default.
    static func ruleFiles(in directory: String) throws(ConfigError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) { return [] }
            throw ConfigError(file: directory, reason: "cannot read the routes directory (\(error.localizedDescription))")
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    /// Names, sizes and modification times of the rule files: changes when any file does
    /// (and when the directory cannot be read, so that the reload reports it). Symbolic links
    /// are followed and the file they lead to is part of the fingerprint: a Kubernetes
    /// ConfigMap update swaps the `..data` link under unchanged file links, and the new copy
    /// may have the old one's size and time.
    static func fingerprint(of directory: String) -> [String] {
        guard let files = try? self.ruleFiles(in: directory) else { return ["<unreadable>"] }
        return files.map { name in
            let path = (directory as NSString).appendingPathComponent(name)
            let target = Self.realPath(path) ?? path
            let attributes = try? FileManager.default.attributesOfItem(atPath: target)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            return "\(name):\(target):\(size):\(modified)"
        }
    }

    /// The file `path` finally leads to, every link resolved (`realpath(3)`: Foundation's
    /// `resolvingSymlinksInPath` leaves relative links such as `..data/x` unresolved on Linux).
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
