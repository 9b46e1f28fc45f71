import Foundation
import Testing
@testable import TollgateCore

@Suite struct LedgerConfigTests {
    func decode(_ yaml: String) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader.decode(GatewayConfig.self, yaml: yaml, file: "t.yaml", environment: [:])
    }

    @Test func defaults() throws {
        let config = try self.decode("data_dir: /var/lib/tollgate\n")
        #expect(config.ledger == LedgerConfig())
        #expect(config.ledger.flushInterval == .milliseconds(50))
        #expect(config.ledger.queueCapacity == 100_000)
        #expect(config.ledger.storeText == false)
        #expect(config.ledgerPath == "/var/lib/tollgate/ledger.sqlite")
        #expect(config.timeZone == TimeZone.current)
    }

    @Test func decodesEveryKey() throws {
        let config = try self.decode("""
            time_zone: Europe/Berlin
            ledger:
              path: /tmp/elsewhere.sqlite
              flush_interval: 20ms
              queue_capacity: 5000
              batch_size: 250
              store_text: true
            """)
        #expect(config.ledger == LedgerConfig(path: "/tmp/elsewhere.sqlite", flushInterval: .milliseconds(20), queueCapacity: 5000, batchSize: 250, storeText: true))
        #expect(config.ledgerPath == "/tmp/elsewhere.sqlite")
        #expect(config.timeZone.identifier == "Europe/Berlin")
        let writer = LedgerWriter.Configuration(config.ledger)
        #expect(writer.flushInterval == .milliseconds(20))
        #expect(writer.batchSize == 250)
    }

    @Test func flushIntervalAboveTheGuaranteeIsRefused() {
        let yaml = "server:\n  port: 8080\nledger:\n  flush_interval: 60ms\n"
        #expect(throws: ConfigError(
            file: "t.yaml", line: 4, key: "ledger.flush_interval",
            reason: "flush_interval must be between 1ms and 50ms (a crash loses at most this much of the ledger)"
        )) { try self.decode(yaml) }
        #expect(throws: ConfigError.self) { try self.decode("ledger:\n  flush_interval: 0ms\n") }
        #expect(throws: ConfigError.self) { try self.decode("ledger:\n  flush_interval: soon\n") }
    }

    @Test func badValuesNameTheKey() throws {
        let unknown = try #require(throws: ConfigError.self) { try self.decode("ledger:\n  flush: 10ms\n") }
        #expect(unknown.line == 2)
        #expect(unknown.key == "ledger.flush")
        #expect(unknown.reason.contains("allowed: enabled, path, url, flush_interval, queue_capacity, batch_size, store_text"))

        let capacity = try #require(throws: ConfigError.self) { try self.decode("ledger:\n  queue_capacity: 0\n") }
        #expect(capacity.key == "ledger.queue_capacity")
        let text = try #require(throws: ConfigError.self) { try self.decode("ledger:\n  store_text: maybe\n") }
        #expect(text.key == "ledger.store_text")
        let url = try #require(throws: ConfigError.self) { try self.decode("ledger:\n  url: mysql://db/ledger\n") }
        #expect(url.key == "ledger.url")
        #expect(url.reason.contains("postgres://"))
        let zone = try #require(throws: ConfigError.self) { try self.decode("time_zone: Mars/Olympus_Mons\n") }
        #expect(zone.line == 1)
        #expect(zone.key == "time_zone")
        #expect(zone.reason.contains("unknown time zone 'Mars/Olympus_Mons'"))
    }

    @Test func days() throws {
        #expect(LedgerDay("2024-02-29")?.description == "2024-02-29")
        for bad in ["2025-02-29", "2025-13-01", "2025-1-01", "20250101", "2025-01-01T00:00", "", "２０２５-01-01", "yesterday"] {
            #expect(LedgerDay(bad) == nil, "\(bad)")
        }
        #expect(LedgerDay("2024-12-31")!.next == LedgerDay("2025-01-01"))
        #expect(LedgerDay("2024-02-28")!.next == LedgerDay("2024-02-29"))
        #expect(LedgerDay("2025-03-09")! < LedgerDay("2025-03-10")!)
        let newYork = TimeZone(identifier: "America/New_York")!
        let springForward = LedgerDay("2025-03-09")!
        #expect(springForward.next.startMs(in: newYork) - springForward.startMs(in: newYork) == 23 * 3_600_000)
        let fallBack = LedgerDay("2025-11-02")!
        #expect(fallBack.next.startMs(in: newYork) - fallBack.startMs(in: newYork) == 25 * 3_600_000)
        #expect(LedgerDay(containing: Date(timeIntervalSince1970: 1_741_496_399), in: newYork) == LedgerDay("2025-03-08"))
    }
}
