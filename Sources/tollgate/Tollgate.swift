import ArgumentParser
import Foundation
import TollgateCore

/// `tollgate`: the command line. Only argument parsing lives here; the work is in the libraries.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "An LLM gateway with cost controls.",
        subcommands: [Serve.self, Demo.self, Init.self, Keys.self, Routes.self, Report.self]
    )

    /// SPEC's exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            // --help and --version end here with their own output and status 0.
            if code == .success { self.exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .failure ? 1 : 2)
        }
    }
}

/// A command that could not do its job, with the exit code SPEC gives that kind of failure.
struct CommandFailure: Error {
    var message: String
    var exitCode: Int32

    static func usage(_ message: String) -> Self { .init(message: message, exitCode: 2) }
    static func runtime(_ message: String) -> Self { .init(message: message, exitCode: 1) }
}

/// `--config` shared by every command that reads `tollgate.yaml`.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to tollgate.yaml (default: $TOLLGATE_CONFIG, else ./tollgate.yaml, else the built-in default).")
    var config: String?

    /// The file to read, and whether the user named it (a named file must exist).
    func path(environment: [String: String]) -> (path: String, named: Bool) {
        if let config { return (config, true) }
        if let variable = environment["TOLLGATE_CONFIG"], !variable.isEmpty { return (variable, true) }
        return ("tollgate.yaml", false)
    }

    /// The configuration and where it came from: the named or local file, else the built-in
    /// default (the shipped files, written to `built-in-config/` in the data dir so that the
    /// operator can read what runs).
    func load(environment: [String: String]) throws -> (config: GatewayConfig, source: String) {
        let (path, named) = self.path(environment: environment)
        if named || FileManager.default.fileExists(atPath: path) {
            return (try loadGatewayConfig(path, environment: environment), path)
        }
        let directory = ShippedFiles.builtInDirectory(dataDirectory: Self.dataDirectory(environment))
        do {
            let config = try ShippedFiles.builtInConfig(in: directory, environment: environment)
            return (config, "the built-in default (no \(path) here and TOLLGATE_CONFIG unset; its files are in \(directory))")
        } catch {
            throw CommandFailure.usage("no \(path) and the built-in default failed: \(error)")
        }
    }

    /// The configuration when there is a file, else the defaults with TOLLGATE_DATA_DIR: for
    /// commands that only need the data dir (keys, report).
    func loadOrDefaults(environment: [String: String]) throws -> GatewayConfig {
        let (path, named) = self.path(environment: environment)
        if named || FileManager.default.fileExists(atPath: path) { return try loadGatewayConfig(path, environment: environment) }
        // The built-in default's two settings a command reads: where the data and the ledger are.
        var config = GatewayConfig()
        config.dataDirectory = Self.dataDirectory(environment)
        if let url = environment["TOLLGATE_LEDGER_URL"], !url.isEmpty {
            do {
                config.ledger.url = try PostgresURL(url)
            } catch {
                throw CommandFailure.usage("TOLLGATE_LEDGER_URL: \(error.reason)")
            }
        }
        return config
    }

    static func dataDirectory(_ environment: [String: String]) -> String {
        environment["TOLLGATE_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "data"
    }
}
