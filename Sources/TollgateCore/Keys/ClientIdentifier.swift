/// Checks on the identifiers a client supplies (end users, models, request fields that end up
/// in logs, the ledger and limit keys): at most `maxBytes` UTF-8 bytes and no control
/// characters (NUL, line breaks, escapes), so that one request cannot grow the logs by
/// megabytes, forge log lines or collide with another identity's keys.
public enum ClientIdentifier {
    public static let maxBytes = 256

    /// `value` when it is acceptable, else a 400 naming `param`.
    public static func check(_ value: String, param: String) throws(GatewayError) -> String {
        guard value.utf8.count <= maxBytes else {
            throw .invalidRequest("'\(param)' is longer than \(maxBytes) bytes.", param: param)
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidRequest("'\(param)' contains a control character.", param: param)
        }
        return value
    }

    /// The end user a request acts for: the key's bound user when it has one, and then any
    /// other claimed user (`claims`: the body's field, `X-Tollgate-User`) is refused with a
    /// 403, never recorded: limits and budgets only ever see the bound user. A key without a
    /// user takes the first claim. Every claim is checked (``check(_:param:)``).
    public static func endUser(boundTo bound: String?, claims: [(param: String, value: String?)]) throws(GatewayError) -> String? {
        var user: String?
        for claim in claims {
            guard let value = claim.value else { continue }
            let checked = try check(value, param: claim.param)
            if let bound, checked != bound { throw .userNotAllowed(claimed: String(checked.prefix(64)), param: claim.param) }
            if user == nil { user = checked }
        }
        return bound ?? user
    }
}
