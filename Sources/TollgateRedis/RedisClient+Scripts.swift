extension RedisClient {
    /// Runs `script` with `EVALSHA`. When Redis does not know the script (`NOSCRIPT`: first
    /// use, after a restart or `SCRIPT FLUSH`), loads it with `SCRIPT LOAD` and retries
    /// once, both in one round trip on one connection.
    ///
    /// The script's return value is the reply; a Lua error (`redis.error_reply`, a failed
    /// `redis.call`) is thrown as ``RedisError/reply(_:)``.
    public func evaluate(_ script: RedisScript, keys: [String] = [], arguments: [String] = []) async throws(RedisError) -> RedisReply {
        var evalArguments = ["EVALSHA", script.sha1, String(keys.count)]
        evalArguments.reserveCapacity(3 + keys.count + arguments.count)
        evalArguments += keys
        evalArguments += arguments
        let evalsha = RedisCommand(evalArguments)
        let first = try await self.execute([evalsha]).get()[0]
        guard case .error(let message) = first, message.hasPrefix("NOSCRIPT") else {
            return try Self.unwrap(first)
        }
        let retried = try await self.execute([RedisCommand(["SCRIPT", "LOAD", script.source]), evalsha]).get()
        if case .error(let loadError) = retried[0] {
            throw .reply(loadError)  // the script does not compile
        }
        return try Self.unwrap(retried[1])
    }

    private static func unwrap(_ reply: RedisReply) throws(RedisError) -> RedisReply {
        if case .error(let message) = reply {
            throw .reply(message)
        }
        return reply
    }
}
