import Foundation

/// The configuration files the repository ships (`tollgate.yaml`, `routes/`, `budgets/`,
/// `prompts/`), compiled in (`ShippedFiles+Content.swift`), so that an installed binary has a
/// working default and `tollgate init` has something to write.
public enum ShippedFiles {
    /// Writes every shipped file under `directory`, creating folders. Refuses to replace a
    /// file that exists unless `overwrite` (then every file is written again).
    /// - Returns: the paths written.
    @discardableResult
    public static func write(to directory: String, overwrite: Bool) throws(ConfigError) -> [String] {
        let base = URL(fileURLWithPath: directory)
        if !overwrite {
            let existing = self.all.map { base.appendingPathComponent($0.path).path }.filter { FileManager.default.fileExists(atPath: $0) }
            guard existing.isEmpty else {
                throw ConfigError(file: directory, reason: "would replace \(existing.joined(separator: ", ")) (pass --force to replace them)")
            }
        }
        var written: [String] = []
        for file in self.all {
            let url = base.appendingPathComponent(file.path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.content.utf8).write(to: url, options: .atomic)
            } catch {
                throw ConfigError(file: url.path, reason: "cannot write the file (\(error.localizedDescription))")
            }
            written.append(url.path)
        }
        return written
    }

    /// The built-in default: the shipped files written (again) to `directory`, and the
    /// shipped `tollgate.yaml` with its `routes/`, `budgets/` and `prompts/` pointing there,
    /// so the gateway, its reloads and the operator all read the same files.
    public static func builtInConfig(in directory: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        try self.write(to: directory, overwrite: true)
        let path = URL(fileURLWithPath: directory).appendingPathComponent("tollgate.yaml").path
        var config = try ConfigLoader.load(GatewayConfig.self, file: path, environment: environment)
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        config.routesDirectory = absolute + "/routes"
        config.budgetsDirectory = absolute + "/budgets"
        config.promptsDirectory = absolute + "/prompts"
        return config
    }

    /// Where the built-in default is written: beside the data it serves.
    public static func builtInDirectory(dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("built-in-config").path
    }
}
