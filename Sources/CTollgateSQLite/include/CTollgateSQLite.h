#ifndef C_TOLLGATE_SQLITE_H
#define C_TOLLGATE_SQLITE_H

/// Turns off SQLite's memory statistics, which take a process-wide mutex on every allocation
/// (a dozen per ledger row). Must run before the first connection opens; returns SQLite's
/// result code (SQLITE_MISUSE once SQLite is already initialized, and then changes nothing).
/// sqlite3_config is variadic, which Swift cannot call: hence this shim.
int tollgate_sqlite_disable_memory_statistics(void);

#endif
