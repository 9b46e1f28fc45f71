import ArgumentParser
import Foundation
import Logging
import TollgateCore
import TollgateServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Address to listen on (overrides server.host).")
    var host: String?

    @Option(help: "Port to listen on (overrides server.port).")
    var port: Int?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let (config, source) = try self.options.load(environment: environment)
        if let port, !(0...65535).contains(port) {
            throw CommandFailure.usage("--port must be between 0 and 65535")
        }
        bootstrapLogging(config.logging)
        _ = GatewayMetrics.prometheusRegistry
        var logger = Logger(label: "tollgate")
        logger.logLevel = Logger.Level(rawValue: config.logging.level) ?? .info
        logger.info("configuration: \(source)")
        do {
            try await runGateway(ServeOptions(config: config, environment: environment, host: self.host, port: self.port), logger: logger)
        } catch let error as ConfigError {
            throw CommandFailure.usage("invalid configuration: \(error)")
        } catch {
            throw CommandFailure.runtime("tollgate: \(error)")
        }
    }
}

/// Loads and validates `tollgate.yaml`, failing with exit code 2 and the file, line and reason.
func loadGatewayConfig(_ path: String, environment: [String: String]) throws -> GatewayConfig {
    do {
        return try ConfigLoader.load(GatewayConfig.self, file: path, environment: environment)
    } catch {
        throw CommandFailure.usage("invalid configuration: \(error)")
    }
}

func bootstrapLogging(_ config: LoggingConfig) {
    let level = Logger.Level(rawValue: config.level) ?? .info
    LoggingSystem.bootstrap { label in
        switch config.format {
        case .json:
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
