import Testing
import TollgateRedis

@Suite("RedisURL parsing")
struct RedisURLTests {
    @Test func hostPortAndDatabase() throws {
        #expect(try RedisURL("redis://cache.internal") == RedisURL(endpoint: .tcp(host: "cache.internal", port: 6379)))
        #expect(try RedisURL("redis://127.0.0.1:6380/3") == RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6380), database: 3))
        #expect(try RedisURL("redis://[::1]:7000/") == RedisURL(endpoint: .tcp(host: "::1", port: 7000)))
        #expect(try RedisURL("REDIS://h:1") == RedisURL(endpoint: .tcp(host: "h", port: 1)))
    }

    @Test func credentials() throws {
        let full = try RedisURL("redis://gateway:p%40ss%3Aword@h:6379/1")
        #expect(full.username == "gateway")
        #expect(full.password == "p@ss:word")
        #expect(full.database == 1)
        let passwordOnly = try RedisURL("redis://:secret@h")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password == "secret")
        // An unencoded @ in the password: the last @ before the host ends the user info.
        #expect(try RedisURL("redis://:a@b@h").password == "a@b")
    }

    @Test func unixSockets() throws {
        #expect(try RedisURL("unix:///run/redis/redis.sock") == RedisURL(endpoint: .unix(path: "/run/redis/redis.sock")))
        let withDatabase = try RedisURL("unix://:pw@/tmp/r.sock?db=4")
        #expect(withDatabase.endpoint == .unix(path: "/tmp/r.sock"))
        #expect(withDatabase.password == "pw")
        #expect(withDatabase.database == 4)
    }

    @Test func descriptionHidesThePassword() throws {
        let url = try RedisURL("redis://gateway:hunter2@h:6379/2")
        #expect(url.description == "redis://gateway:***@h:6379/2")
        #expect(!"\(url)".contains("hunter2"))
    }

    @Test(arguments: [
        ("rediss://h:6380", "TLS"),
        ("http://h", "unsupported scheme 'http'"),
        ("h:6379", "expected redis://"),
        ("redis://h:0", "port '0'"),
        ("redis://h:http", "port 'http'"),
        ("redis://h/x", "database 'x'"),
        ("redis://:6379", "missing host"),
        ("redis://user@h", "needs a password"),
        ("redis://h?timeout=1", "query"),
        ("redis://[::1", "IPv6"),
        ("redis://:%zz@h", "percent-encoding"),
        ("unix://relative.sock", "absolute path"),
    ])
    func invalidURLsSayWhy(url: String, reason: String) {
        do {
            let parsed = try RedisURL(url)
            Issue.record("\(url) parsed as \(parsed)")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    @Test func errorsNeverRepeatThePassword() {
        do {
            _ = try RedisURL("redis://:topsecret@h:99999")
            Issue.record("port 99999 must be refused")
        } catch {
            #expect(!error.description.contains("topsecret"))
        }
    }
}
