import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateRedis
import TollgateUpstream

/// Checks every budget each `check_interval` (budgets/alerts.yaml) and POSTs each new alert to
/// the webhook: once per budget, day and kind, retried with backoff, never on a request's path.
///
/// "Once" holds across restarts (the alerts sent are kept in `data_dir/alerts-sent`) and, with
/// Redis, across replicas (a `SET NX` per alert: the replica that wins sends it; a failed
/// delivery gives the alert back). An alert whose every attempt failed is tried again at the
/// next check.
final class BudgetAlerter: Service, Sendable {
    private let config: AlertsConfig
    private let webhookURL: String
    private let check: BudgetAlertCheck
    private let overview: SpendOverview
    private let ledger: any LedgerStore
    private let keys: KeyStore
    private let declaredKeys: [GatewayKey]
    private let refusals: BudgetRefusals
    private let client: UpstreamClient
    private let redis: RedisClient?
    private let sent: SentAlerts
    private let retryBase: Duration
    private let logger: Logger

    init(
        config: AlertsConfig, webhookURL: String, softLimitPercent: Double, overview: SpendOverview, ledger: any LedgerStore, keys: KeyStore,
        declaredKeys: [GatewayKey], refusals: BudgetRefusals, client: UpstreamClient, redis: RedisClient?, dataDirectory: String,
        retryBase: Duration = .seconds(1), logger: Logger
    ) {
        self.config = config
        self.webhookURL = webhookURL
        self.check = BudgetAlertCheck(config: config, softLimitPercent: softLimitPercent)
        self.overview = overview
        self.ledger = ledger
        self.keys = keys
        self.declaredKeys = declaredKeys
        self.refusals = refusals
        self.client = client
        self.redis = redis
        self.sent = SentAlerts(path: (dataDirectory as NSString).appendingPathComponent("alerts-sent"))
        self.retryBase = retryBase
        self.logger = logger
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.checkOnce()
                do { try await Task.sleep(for: self.config.checkInterval) } catch { return }
            }
        }
    }

    /// One round: finds the alerts that hold and sends those not sent yet. Returns what it sent.
    @discardableResult
    func checkOnce(now: Date = Date()) async -> [BudgetAlert] {
        let alerts: [BudgetAlert]
        do {
            let keys = try await self.keys.list().map(\.key) + self.declaredKeys
            let today = try await self.overview.make(ledger: self.ledger, keys: keys, top: .max, now: now)
            let nowMs = LedgerEntry.milliseconds(now)
            let recent = try await self.ledger.recentSpend(sinceMs: nowMs - 25 * 3_600_000, splitMs: nowMs - 3_600_000)
            alerts = self.check.alerts(today: today, refused: self.refusals.snapshot, recent: recent)
        } catch {
            self.logger.warning("could not check the budgets for alerts", metadata: ["error": "\(error)"])
            return []
        }
        var delivered: [BudgetAlert] = []
        for alert in alerts where !self.sent.contains(alert.key) {
            guard await self.claim(alert) else { continue }  // another replica sends it
            if await self.deliver(alert) {
                self.sent.insert(alert.key)
                delivered.append(alert)
            } else {
                await self.release(alert)
            }
        }
        return delivered
    }

    /// POSTs the alert, retrying with doubling backoff; true once the webhook answered 2xx.
    private func deliver(_ alert: BudgetAlert) async -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(alert.payload) else { return false }
        var delay = self.retryBase
        for attempt in 1...self.config.attempts {
            do {
                let request = UpstreamRequest(
                    method: "POST", url: self.webhookURL, headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: body),
                    timeouts: .init(connect: .seconds(5), total: .seconds(15), idle: .seconds(15))
                )
                let response = try await self.client.execute(request)
                _ = try? await response.collectBody(upTo: 64 << 10)
                if (200..<300).contains(response.status) {
                    self.logger.notice("budget alert sent", metadata: ["alert": "\(alert.key)", "attempt": "\(attempt)"])
                    return true
                }
                self.logger.warning("the alert webhook refused an alert", metadata: ["alert": "\(alert.key)", "status": "\(response.status)", "attempt": "\(attempt)"])
            } catch {
                self.logger.warning("could not reach the alert webhook", metadata: ["alert": "\(alert.key)", "error": "\(error)", "attempt": "\(attempt)"])
            }
            guard attempt < self.config.attempts else { break }
            try? await Task.sleep(for: delay)
            delay = delay * 2
        }
        self.logger.error("budget alert not delivered; it is tried again at the next check", metadata: ["alert": "\(alert.key)"])
        return false
    }

    /// With Redis, takes the alert for this replica (false when another one has it).
    private func claim(_ alert: BudgetAlert) async -> Bool {
        guard let redis = self.redis else { return true }
        do {
            let reply = try await redis.send(["SET", "tg:alert:{\(alert.key)}", "1", "NX", "EX", "259200"])
            return !reply.isNull
        } catch {
            return true  // Redis down: better twice than never
        }
    }

    private func release(_ alert: BudgetAlert) async {
        guard let redis = self.redis else { return }
        _ = try? await redis.send(["DEL", "tg:alert:{\(alert.key)}"])
    }
}

/// The alerts already sent, in memory and in a file (one key per line; the last few thousand
/// are kept), so a restart does not send the day's alerts again.
final class SentAlerts: Sendable {
    private let path: String
    private let keys: Mutex<[String]>
    private static let kept = 5_000

    init(path: String) {
        self.path = path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        self.keys = Mutex(text.split(separator: "\n").map(String.init).suffix(Self.kept).map { $0 })
    }

    func contains(_ key: String) -> Bool { self.keys.withLock { $0.contains(key) } }

    func insert(_ key: String) {
        let text = self.keys.withLock { keys in
            keys.append(key)
            if keys.count > Self.kept { keys.removeFirst(keys.count - Self.kept) }
            return keys.joined(separator: "\n") + "\n"
        }
        // Written off the request path (this runs in the alerter's own task); a failed write
        // only risks one repeated alert after a restart.
        try? text.write(toFile: self.path, atomically: true, encoding: .utf8)
    }
}
