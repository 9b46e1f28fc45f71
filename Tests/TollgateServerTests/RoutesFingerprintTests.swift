import Foundation
import Testing
@testable import TollgateServer

/// The routes watcher sees a Kubernetes ConfigMap update: the kubelet writes the new files to
/// a new timestamped directory and swaps the `..data` link, under file links that stay as
/// they are (`00-default.yaml -> ..data/00-default.yaml`).
@Suite struct RoutesFingerprintTests {
    @Test func aConfigMapStyleLinkSwapChangesTheFingerprint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-cm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = FileManager.default
        try files.createDirectory(atPath: directory + "/..2026_12_06_01", withIntermediateDirectories: true)
        try files.createDirectory(atPath: directory + "/..2026_12_06_02", withIntermediateDirectories: true)
        // Same size, same modification time: only the link's target tells them apart.
        let time = Date(timeIntervalSince1970: 1_796_000_000)
        for (version, model) in [("01", "gpt-5-mini"), ("02", "gpt-5-nano")] {
            let path = directory + "/..2026_12_06_\(version)/00-default.yaml"
            try "routes: [ { name: default, default: true, target: \(model) } ]\n".write(toFile: path, atomically: true, encoding: .utf8)
            try files.setAttributes([.modificationDate: time], ofItemAtPath: path)
        }
        try files.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: "..2026_12_06_01")
        try files.createSymbolicLink(atPath: directory + "/00-default.yaml", withDestinationPath: "..data/00-default.yaml")
        let before = RoutingRulesLoader.fingerprint(of: directory)
        #expect(before.count == 1)

        try files.removeItem(atPath: directory + "/..data")
        try files.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: "..2026_12_06_02")
        #expect(RoutingRulesLoader.fingerprint(of: directory) != before)
    }
}
