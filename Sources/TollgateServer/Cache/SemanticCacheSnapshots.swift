import Logging
import ServiceLifecycle

/// Writes the semantic cache's snapshot every `interval` when entries changed, and once more
/// at shutdown (after the server has stopped taking requests: services stop in reverse order),
/// then stops the store's thread. Publishes the store's size as metrics on the same beat.
struct SemanticCacheSnapshots: Service {
    let cache: SemanticCache
    let interval: Duration?
    let logger: Logger

    func run() async throws {
        let saved = try? await cancelWhenGracefulShutdown { await self.loop() }
        if self.interval != nil, self.cache.recordStatistics() != (saved ?? -1) { _ = await self.save() }
        self.cache.shutdown()
    }

    /// Saves when changed until cancelled; returns the count of changes last saved.
    private func loop() async -> Int {
        var saved = self.cache.recordStatistics()
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.interval ?? .seconds(5))
            } catch {
                break
            }
            let changes = self.cache.recordStatistics()
            if self.interval != nil, changes != saved, await self.save() { saved = changes }
        }
        return saved
    }

    private func save() async -> Bool {
        do {
            try await self.cache.saveSnapshot()
            return true
        } catch {
            self.logger.warning("semantic cache snapshot not written", metadata: ["path": "\(self.cache.snapshotPath ?? "")", "error": "\(error)"])
            return false
        }
    }
}
