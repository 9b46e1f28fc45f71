import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL, as libpq takes it: `postgres://USER:PASSWORD@HOST:PORT/DB`,
/// with `?sslmode=disable|prefer|require|verify-full` (default `prefer`) and `?host=/dir` for
/// a Unix socket directory (`postgres://USER@/DB?host=/var/run/postgresql`).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    /// The socket file, for a `host=/dir` URL.
    public var socketPath: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Whether `text` is a PostgreSQL URL at all (its scheme), before parsing it.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws(PostgresURLError) {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresURLError(reason: "a PostgreSQL URL looks like postgres://user:password@host:5432/database")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        self.username = components.percentEncodedUser?.removingPercentEncoding ?? "postgres"
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        self.port = components.port ?? 5432
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.username : (path.removingPercentEncoding ?? path)
        if let directory = query["host"], directory.hasPrefix("/") {
            self.host = ""
            self.socketPath = (directory as NSString).appendingPathComponent(".s.PGSQL.\(self.port)")
        } else {
            guard let host = components.host, !host.isEmpty else {
                throw PostgresURLError(reason: "the URL names no host (or host=/socket/dir)")
            }
            self.host = host
            self.socketPath = nil
        }
        let mode = query["sslmode"] ?? "prefer"
        guard let tls = TLSMode(rawValue: mode) else {
            throw PostgresURLError(reason: "sslmode takes disable, prefer, require or verify-full (got '\(mode)')")
        }
        self.tls = tls
        let known: Set = ["sslmode", "host"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresURLError(reason: "unknown URL parameter '\(unknown)' (sslmode and host are read)")
        }
    }

    /// The URL without its password: for logs and messages.
    public var description: String {
        let user = self.password == nil ? self.username : self.username + ":***"
        if let socketPath = self.socketPath { return "postgres://\(user)@/\(self.database)?host=\((socketPath as NSString).deletingLastPathComponent)" }
        return "postgres://\(user)@\(self.host):\(self.port)/\(self.database)"
    }

    /// The client's configuration: at most `connections` connections, `connectTimeout` each.
    func clientConfiguration(connections: Int, connectTimeout: Duration) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketPath = self.socketPath {
            configuration = .init(unixSocketPath: socketPath, username: self.username, password: self.password, database: self.database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch self.tls {
            case .disable:
                tls = .disable
            case .prefer:
                tls = .prefer(.makeClientConfiguration())
            case .require:
                // libpq's `require`: encrypted, the server's certificate not checked.
                var unchecked = TLSConfiguration.makeClientConfiguration()
                unchecked.certificateVerification = .none
                tls = .require(unchecked)
            case .verifyFull:
                tls = .require(.makeClientConfiguration())
            }
            configuration = .init(host: self.host, port: self.port, username: self.username, password: self.password, database: self.database, tls: tls)
        }
        configuration.options.maximumConnections = connections
        configuration.options.connectTimeout = connectTimeout
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(15))
        return configuration
    }
}

/// Why a PostgreSQL URL was refused.
public struct PostgresURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { self.reason }
}
