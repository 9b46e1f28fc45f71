/// Where and how to connect: `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to/redis.sock[?db=N]`.
///
/// User name and password may be percent-encoded; an IPv6 host goes in brackets
/// (`redis://[::1]:6379`). `rediss://` (TLS) is refused: the hiredis this is built on has
/// no TLS support on Debian 12 (hiredis 0.14, no hiredis_ssl).
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public static let defaultPort = 6379

    public var endpoint: Endpoint
    /// Redis 6 ACL user; nil for the default user.
    public var username: String?
    public var password: String?
    /// Selected with `SELECT` after connecting when not 0.
    public var database: Int

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `string`; the error names what is wrong and never repeats the password.
    public init(_ string: String) throws(RedisURLError) {
        guard let colon = string.firstIndex(of: ":"), string[colon...].hasPrefix("://") else {
            throw RedisURLError(reason: "expected redis://host[:port][/db] or unix:///path")
        }
        let scheme = string[..<colon].lowercased()
        let rest = string[string.index(colon, offsetBy: 3)...]
        switch scheme {
        case "redis":
            self = try Self.parseTCP(rest)
        case "unix":
            self = try Self.parseUnix(rest)
        case "rediss":
            throw RedisURLError(reason: "TLS (rediss://) is not supported: the hiredis library used has no TLS")
        default:
            throw RedisURLError(reason: "unsupported scheme '\(scheme)' (use redis:// or unix://)")
        }
    }

    /// The URL with the password replaced by `***`, for logs.
    public var description: String {
        var userinfo = ""
        if let password {
            userinfo = "\(self.username ?? ""):\(password.isEmpty ? "" : "***")@"
        }
        switch self.endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "redis://\(userinfo)\(shownHost):\(port)" + (self.database == 0 ? "" : "/\(self.database)")
        case .unix(let path):
            return "unix://\(userinfo)\(path)" + (self.database == 0 ? "" : "?db=\(self.database)")
        }
    }

    // MARK: Parsing

    private static func parseTCP(_ rest: Substring) throws(RedisURLError) -> RedisURL {
        if rest.contains("?") || rest.contains("#") {
            throw RedisURLError(reason: "query parameters and fragments are not supported")
        }
        let (userinfo, hostAndPath) = Self.splitUserinfo(rest)
        let (username, password) = try Self.parseUserinfo(userinfo)
        let authority: Substring
        let path: Substring
        if let slash = hostAndPath.firstIndex(of: "/") {
            authority = hostAndPath[..<slash]
            path = hostAndPath[hostAndPath.index(after: slash)...]
        } else {
            authority = hostAndPath
            path = ""
        }
        let (host, port) = try Self.parseAuthority(authority)
        let database = try Self.parseDatabase(path)
        return RedisURL(endpoint: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    private static func parseUnix(_ rest: Substring) throws(RedisURLError) -> RedisURL {
        let (userinfo, pathAndQuery) = Self.splitUserinfo(rest)
        let (username, password) = try Self.parseUserinfo(userinfo)
        var path = pathAndQuery
        var database = 0
        if let question = pathAndQuery.firstIndex(of: "?") {
            path = pathAndQuery[..<question]
            let query = pathAndQuery[pathAndQuery.index(after: question)...]
            guard query.hasPrefix("db=") else {
                throw RedisURLError(reason: "the only query parameter supported is db=N")
            }
            database = try Self.parseDatabase(query.dropFirst(3))
        }
        guard path.hasPrefix("/"), path.count > 1 else {
            throw RedisURLError(reason: "a unix socket URL needs an absolute path (unix:///path/to/redis.sock)")
        }
        return RedisURL(endpoint: .unix(path: String(path)), username: username, password: password, database: database)
    }

    /// Splits at the last `@` before the path, so a password may contain `@` unencoded.
    private static func splitUserinfo(_ rest: Substring) -> (userinfo: Substring?, remainder: Substring) {
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return (nil, rest) }
        return (rest[..<at], rest[rest.index(after: at)...])
    }

    private static func parseUserinfo(_ userinfo: Substring?) throws(RedisURLError) -> (String?, String?) {
        guard let userinfo else { return (nil, nil) }
        guard let colon = userinfo.firstIndex(of: ":") else {
            throw RedisURLError(reason: "a user name needs a password (user:password@ or :password@)")
        }
        let username = try Self.percentDecoded(userinfo[..<colon], what: "user name")
        let password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], what: "password")
        return (username.isEmpty ? nil : username, password)
    }

    private static func parseAuthority(_ authority: Substring) throws(RedisURLError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw RedisURLError(reason: "unterminated IPv6 address (missing ']')")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RedisURLError(reason: "unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw RedisURLError(reason: "missing host") }
        var port = Self.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw RedisURLError(reason: "port '\(portText)' is not a number from 1 to 65535")
            }
            port = value
        }
        return (String(host), port)
    }

    private static func parseDatabase(_ text: Substring) throws(RedisURLError) -> Int {
        if text.isEmpty { return 0 }
        guard let database = Int(text), database >= 0 else {
            throw RedisURLError(reason: "database '\(text)' is not a number from 0 up")
        }
        return database
    }

    private static func percentDecoded(_ text: Substring, what: String) throws(RedisURLError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.popFirst().flatMap(Self.hexValue), let low = utf8.popFirst().flatMap(Self.hexValue) else {
                throw RedisURLError(reason: "bad percent-encoding in the \(what)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A Redis URL that cannot be used; `reason` says why (without the password).
public struct RedisURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String

    public var description: String { "invalid Redis URL: \(self.reason)" }
}
