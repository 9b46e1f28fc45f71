import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import UnixSignals

/// Reloads the routing rules when a file in `routes/` changes (polled each `interval`, which
/// works on every file system, bind mounts and ConfigMaps included) and on SIGHUP. A bad file
/// is logged with file, line and reason, and the rules in force keep serving.
struct RoutesReloader: Service {
    let table: RoutingTable
    let directory: String
    let interval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await self.watch()
        } catch is CancellationError {
            // Graceful shutdown cancels the watch: a normal end, not a failure.
        }
    }

    private func watch() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        self.reload(reason: "SIGHUP")
                    }
                }
                group.addTask {
                    var fingerprint = RoutingRulesLoader.fingerprint(of: self.directory)
                    while true {
                        try await Task.sleep(for: self.interval)
                        let now = RoutingRulesLoader.fingerprint(of: self.directory)
                        if now != fingerprint {
                            fingerprint = now
                            self.reload(reason: "file change")
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    func reload(reason: String) {
        // The table logs the outcome; a rejected file leaves the current rules in force.
        _ = try? self.table.reload(reason: reason, logger: self.logger)
    }
}
