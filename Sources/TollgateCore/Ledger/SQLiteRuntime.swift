import CTollgateSQLite

/// Process-wide SQLite settings, applied once before the first connection opens (the key
/// store and the ledger both call `prepare()` first).
enum SQLiteRuntime {
    /// Without memory statistics every SQLite allocation skips a global mutex: about a tenth
    /// of the ledger writer's CPU per row (bench/RESULTS.md, "Ledger writer").
    private static let prepared: Void = {
        _ = tollgate_sqlite_disable_memory_statistics()
    }()

    static func prepare() {
        _ = Self.prepared
    }
}
