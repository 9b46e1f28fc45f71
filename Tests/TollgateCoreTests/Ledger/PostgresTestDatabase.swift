import Foundation
import Testing
@testable import TollgateCore

/// A throwaway database on the PostgreSQL server `scripts/test.sh` starts
/// (`TOLLGATE_TEST_POSTGRES_URL`), made and dropped with `psql`.
struct PostgresTestDatabase {
    /// The server's URL; tests that need PostgreSQL are off without it (`swift test` alone).
    static let serverURL = ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"]
    static var isAvailable: Bool { Self.serverURL != nil }

    let name: String
    let url: PostgresURL

    /// A name for a database that does not exist yet (`create()` makes it).
    init() throws {
        let server = try PostgresURL(try #require(Self.serverURL))
        self.name = "tollgate_test_\(UInt64.random(in: 0 ... .max))"
        var url = server
        url.database = self.name
        self.url = url
    }

    func create() throws { try Self.psql("CREATE DATABASE \(self.name)") }

    func drop() { try? Self.psql("DROP DATABASE IF EXISTS \(self.name) WITH (FORCE)") }

    /// Runs `sql` on the server's own database.
    static func psql(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", try #require(Self.serverURL), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PSQLFailed(sql: sql) }
    }

    struct PSQLFailed: Error { var sql: String }
}
