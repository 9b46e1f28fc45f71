import Foundation

/// A value a ledger query binds or returns: the ledger has only integers and text.
enum LedgerValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)

    var int: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// A backend returned a column of another shape than the query asks for.
    struct Unexpected: Error, CustomStringConvertible {
        var what: String
        var description: String { "the ledger returned something other than \(self.what)" }
    }
}

/// One SQL statement and its arguments, `?` (SQLite) or `$n` (PostgreSQL) placeholders.
struct LedgerStatement: Sendable, Equatable {
    var sql: String
    var arguments: [LedgerValue]
}

/// The spellings in which the ledger's SQL differs between SQLite and PostgreSQL.
enum LedgerSQLDialect: Sendable {
    case sqlite
    case postgres

    /// A dimension's expression over the alias `e`. `model` is the model that answered, or
    /// the one asked for when none did (requests rejected before reaching a provider). A tag
    /// name is checked at `Dimension.init(rawValue:)` (letters, digits, `_`, `-`, `.`), so it
    /// can be part of the SQL. `user` is quoted: PostgreSQL reserves the word.
    func column(_ dimension: LedgerReport.Dimension) -> String {
        switch dimension {
        case .user: "e.\"user\""
        case .team: "e.team"
        case .key: "e.key_id"
        case .model: "coalesce(e.served_model, e.requested_model)"
        case .route: "e.route"
        case .provider: "nullif(e.provider, '')"
        case .requestedModel: "e.requested_model"
        case .tag(let name):
            switch self {
            case .sqlite: "json_extract(e.tags, '$.\"\(name)\"')"
            case .postgres: "(e.tags::jsonb ->> '\(name)')"
            }
        }
    }

    /// Put before a grouped dimension. In SQLite a unary + keeps the planner from walking the
    /// (dimension, time) index to get the groups in order: one random table read per row, far
    /// slower than a scan and a small sort. Filters still use those indexes. PostgreSQL has
    /// no unary + on text, and plans this well without it.
    var groupPrefix: String {
        switch self {
        case .sqlite: "+"
        case .postgres: ""
        }
    }

    /// How the days join the rows. SQLite's CROSS JOIN keeps the days as the outer loop
    /// (each day one index range); PostgreSQL has no CROSS JOIN ... ON and chooses well alone.
    var dayJoin: String {
        switch self {
        case .sqlite: "CROSS JOIN"
        case .postgres: "JOIN"
        }
    }

    /// `sql` with its `?` placeholders as this dialect spells them. The ledger's SQL has no
    /// `?` inside literals (tag names and day names cannot hold one).
    func numberingParameters(_ sql: String) -> String {
        guard case .postgres = self else { return sql }
        var result = ""
        result.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}
