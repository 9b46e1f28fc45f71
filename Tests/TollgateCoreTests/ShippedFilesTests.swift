import Foundation
import Testing
@testable import TollgateCore

/// The compiled-in configuration (`tollgate serve` without a file, `tollgate init`) is the
/// repository's, and works on its own.
@Suite struct ShippedFilesTests {
    static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theCompiledInFilesAreTheRepositorysFiles() throws {
        var expected = ["tollgate.yaml"]
        for (directory, suffix) in [("routes", ".yaml"), ("budgets", ".yaml"), ("prompts", ".mustache")] {
            let names = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent(directory).path)
            expected += names.filter { $0.hasSuffix(suffix) }.sorted().map { "\(directory)/\($0)" }
        }
        #expect(ShippedFiles.all.map(\.path) == expected, "run scripts/embed-shipped-files.py")
        for file in ShippedFiles.all {
            let onDisk = try String(contentsOf: Self.root.appendingPathComponent(file.path), encoding: .utf8)
            #expect(file.content == onDisk, "\(file.path) differs from the compiled-in copy: run scripts/embed-shipped-files.py")
        }
    }

    @Test func theBuiltInDefaultLoadsWithItsRulesPricesAndTemplates() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-builtin-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["TOLLGATE_DATA_DIR": directory + "/data"]
        let config = try ShippedFiles.builtInConfig(in: directory + "/built-in-config", environment: environment)
        #expect(config.routesDirectory.hasPrefix("/") && config.routesDirectory.hasSuffix("built-in-config/routes"))
        #expect(config.dataDirectory == directory + "/data" && config.server.port == 8080)
        var rules = try CompiledRoutingRules.load(directory: config.routesDirectory, environment: environment)
        rules.templates = try PromptTemplates.load(directory: config.promptsDirectory)
        try rules.checkTemplates()
        #expect(rules.files.count == 1 && rules.isAlias("auto") && rules.templates.contains("busy"))
        let prices = try PriceBook.load(budgetsDirectory: config.budgetsDirectory, config: config, environment: environment)
        #expect(prices.unpricedModels(in: config).isEmpty && prices.price(for: "gpt-5-mini") != nil)
        _ = try LimitsConfig.load(budgetsDirectory: config.budgetsDirectory, environment: environment)
        // Written again on every start, so an edit there does not silently persist.
        try "garbage".write(toFile: directory + "/built-in-config/routes/00-default.yaml", atomically: true, encoding: .utf8)
        _ = try ShippedFiles.builtInConfig(in: directory + "/built-in-config", environment: environment)
        #expect(try CompiledRoutingRules.load(directory: config.routesDirectory, environment: environment).isAlias("auto"))
    }

    @Test func initRefusesToReplaceFilesUnlessForced() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-init-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try ShippedFiles.write(to: directory, overwrite: false)
        #expect(written.count == ShippedFiles.all.count)
        try "# mine\n".write(toFile: directory + "/budgets/limits.yaml", atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try ShippedFiles.write(to: directory, overwrite: false) }
        #expect(try String(contentsOfFile: directory + "/budgets/limits.yaml", encoding: .utf8) == "# mine\n")
        try ShippedFiles.write(to: directory, overwrite: true)
        #expect(try String(contentsOfFile: directory + "/budgets/limits.yaml", encoding: .utf8) != "# mine\n")
    }
}
