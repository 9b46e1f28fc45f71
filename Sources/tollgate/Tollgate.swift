import ArgumentParser
import Foundation

/// `tollgate`: the command line. Only argument parsing lives here; the work is in the libraries.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "An LLM gateway with cost controls.",
        subcommands: [Serve.self, Keys.self, Routes.self, Report.self]
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
    @Option(name: .long, help: "Path to tollgate.yaml.")
    var config: String = "tollgate.yaml"
}
