import Foundation
@testable import TollgateCore

/// Compiles rules from YAML strings named like files (`10-a.yaml`), in the order given.
func compileRules(_ files: [(String, String)], environment: [String: String] = [:]) throws(ConfigError) -> CompiledRoutingRules {
    try CompiledRoutingRules.compile(sources: files.map { (file: $0.0, yaml: $0.1) }, environment: environment)
}

func compileRules(_ yaml: String) throws(ConfigError) -> CompiledRoutingRules {
    try compileRules([("r.yaml", yaml)])
}

/// The error compiling `yaml` throws, or nil.
func ruleError(_ files: [(String, String)]) -> ConfigError? {
    do {
        _ = try compileRules(files)
        return nil
    } catch {
        return error
    }
}

func ruleError(_ yaml: String) -> ConfigError? { ruleError([("r.yaml", yaml)]) }

/// The repository root, from this file's path (symlinks resolved, for builds from another package).
let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
