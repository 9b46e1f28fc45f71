import TollgateRedis

/// The Lua scripts that make every claim and settlement one atomic Redis round trip, so
/// any number of gateway processes share limits and budgets exactly. They mirror
/// `InProcessQuotaStore` and `GCRA`; time comes from the Redis server's clock so replicas
/// with skewed clocks still agree.
///
/// Keys, four per scope, in scope order:
///   `tg:q:{scope}`       hash: `r` / `t` = requests / tokens TAT (seconds, as text); `sweep`,
///                        a time at or before the earliest lease in the scope's sorted sets
///   `tg:c:{scope}`       sorted set: in-flight request ids scored by lease expiry
///   `tg:b:{scope}:{day}` hash: `spent` / `reserved` in nanodollars
///   `tg:r:{scope}:{day}` sorted set: `{request id}:{nanodollars}` scored by lease expiry
/// and one more: for a claim, `tg:seeded:{replica}`, the marker that Redis holds this
/// replica's spend today (`BudgetReseeder`); for a settlement, `tg:s:{claim id}`, the marker
/// that it already ran.
/// Leases expire reservations and concurrency slots of a process that died before settling.
///
/// Redis's CPU is shared by every gateway, so the scripts make as few `redis.call`s as they
/// can (each costs about a microsecond of Lua and command overhead): a claim looks for
/// expired leases only once `sweep` says one may have run out, and a day's budget hash gets
/// its expiry once, when it is created. They also avoid floating-point text, which a profile
/// of redis-server showed to be a quarter of its time: lease expiries are whole seconds
/// (rounded up), which a small sorted set stores as integers instead of re-parsing every
/// score on each insert; amounts go to Redis as the gateway's own integer text; budget
/// shares are sent as integers, in ten-thousandths of a percent.
enum QuotaScripts {
    /// Both scripts report each budget's use the same way: `i:share`, the share in
    /// ten-thousandths of a percent (all of it for a zero budget).
    private static let budgetShare = """
        local function share(i, used, budget)
          return tostring(i) .. ':' .. string.format('%d', budget > 0 and math.floor(used * 1000000 / budget + 0.5) or 1000000)
        end
        """

    static let claim = RedisScript("""
        \(QuotaScripts.budgetShare)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local id, tokens, reservation = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
        local lease, n = tonumber(ARGV[4]), tonumber(ARGV[5])
        -- No marker: Redis lost this replica's spend today (see BudgetReseeder); nothing is
        -- admitted until it is back.
        if redis.call('EXISTS', KEYS[n * 4 + 1]) == 0 then return {0, 'unseeded'} end
        local period = 60
        local expiry = math.ceil(now + lease)
        local expiryText = string.format('%d', expiry)

        local function gcra(tat, qty, limit)
          local interval = period / limit
          local base = math.max(tat, now)
          local new = base + qty * interval
          local function remaining(used) return math.min(limit, math.max(0, math.floor((period - used) / interval + 1e-9))) end
          if qty > limit then return false, tat, remaining(base - now), base - now, -1 end
          if new - now > period + 1e-9 then return false, tat, remaining(base - now), base - now, new - now - period end
          return true, new, remaining(new - now), new - now, 0
        end
        local function ms(seconds) return math.floor(seconds * 1000 + 0.5) end
        local function earliest(key)
          local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
          return tonumber(first[2]) or math.huge
        end

        -- tightest statuses: {limit, remaining, reset ms}
        local req, tok = {0, 0, 0}, {0, 0, 0}
        local function tighten(status, limit, remaining, reset)
          if status[1] == 0 or remaining < status[2] or (remaining == status[2] and limit < status[1]) then
            status[1], status[2], status[3] = limit, remaining, ms(reset)
          end
        end

        local writes, percents = {}, {}
        for i = 0, n - 1 do
          local rk, ck, bk, resk = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
          local rpm, tpm = tonumber(ARGV[6 + i * 4]), tonumber(ARGV[7 + i * 4])
          local maxc, budget = tonumber(ARGV[8 + i * 4]), tonumber(ARGV[9 + i * 4])
          local w = {}
          local q = redis.call('HMGET', rk, 'r', 't', 'sweep')
          if rpm > 0 then
            local ok, new, remaining, reset, retry = gcra(tonumber(q[1]) or 0, 1, rpm)
            tighten(req, rpm, remaining, reset)
            if not ok then return {0, 'requests', i, rpm, ms(retry), req[1], req[2], req[3], tok[1], tok[2], tok[3]} end
            w.r = new
          end
          if tpm > 0 then
            local ok, new, remaining, reset, retry = gcra(tonumber(q[2]) or 0, tokens, tpm)
            tighten(tok, tpm, remaining, reset)
            if not ok then
              if retry < 0 then return {0, 'too_large', i, tpm, 0, req[1], req[2], req[3], tok[1], tok[2], tok[3]} end
              return {0, 'tokens', i, tpm, ms(retry), req[1], req[2], req[3], tok[1], tok[2], tok[3]}
            end
            w.t = new
          end
          -- Slots and reservations whose lease ran out belong to requests that will never settle.
          -- A missing `sweep` (the hash expired) means look.
          if maxc > 0 or budget >= 0 then
            local sweep = tonumber(q[3])
            if sweep == nil or sweep <= now then
              sweep = expiry
              if maxc > 0 then
                redis.call('ZREMRANGEBYSCORE', ck, '-inf', now)
                sweep = math.min(sweep, earliest(ck))
              end
              if budget >= 0 then
                local expired = redis.call('ZRANGEBYSCORE', resk, '-inf', now)
                for _, member in ipairs(expired) do
                  local amount = tonumber(string.match(member, ':(%d+)$')) or 0
                  redis.call('HINCRBY', bk, 'reserved', -amount)
                end
                if #expired > 0 then
                  redis.call('ZREMRANGEBYSCORE', resk, '-inf', now)
                  redis.call('EXPIRE', bk, 172800)
                end
                sweep = math.min(sweep, earliest(resk))
              end
              w.sweep = sweep
            elseif expiry < sweep then
              w.sweep = expiry
            end
          end
          if maxc > 0 then
            if redis.call('ZCARD', ck) >= maxc then
              return {0, 'concurrency', i, maxc, 1000, req[1], req[2], req[3], tok[1], tok[2], tok[3]}
            end
            w.c = true
          end
          if budget >= 0 then
            local state = redis.call('HMGET', bk, 'spent', 'reserved')
            local used = (tonumber(state[1]) or 0) + math.max(0, tonumber(state[2]) or 0)
            if used + reservation > budget then
              return {0, 'budget', i, ARGV[9 + i * 4], string.format('%d', used), 0, 0, 0, 0, 0, 0}
            end
            w.b = true
            w.newDay = not state[1] and not state[2]
            percents[#percents + 1] = share(i, used + reservation, budget)
          end
          writes[i] = w
        end

        -- Every scope admitted the claim: only now is any of it taken.
        for i = 0, n - 1 do
          local rk, ck, bk, resk = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
          local w = writes[i]
          local fields = {}
          if w.r then fields[#fields + 1] = 'r'; fields[#fields + 1] = string.format('%.6f', w.r) end
          if w.t then fields[#fields + 1] = 't'; fields[#fields + 1] = string.format('%.6f', w.t) end
          if w.sweep then fields[#fields + 1] = 'sweep'; fields[#fields + 1] = string.format('%.17g', w.sweep) end
          if #fields > 0 then
            redis.call('HSET', rk, unpack(fields))
            redis.call('EXPIRE', rk, period * 2)
          end
          if w.c then
            redis.call('ZADD', ck, expiryText, id)
            -- Only ever lengthened: a short lease after a long one must not expire the long
            -- one's slot with the key (GT leaves a key without a TTL alone: a new key gets one).
            if redis.call('EXPIRE', ck, lease * 2, 'GT') == 0 and redis.call('TTL', ck) == -1 then
              redis.call('EXPIRE', ck, lease * 2)
            end
          end
          if w.b then
            redis.call('HINCRBY', bk, 'reserved', ARGV[3])
            redis.call('ZADD', resk, expiryText, id .. ':' .. ARGV[3])
            if w.newDay then redis.call('EXPIRE', bk, 172800) end
            redis.call('EXPIRE', resk, 172800)
          end
        end
        return {1, req[1], req[2], req[3], tok[1], tok[2], tok[3], table.concat(percents, ',')}
        """)

    /// Runs once per claim: the last key marks the claim settled (for two leases), so a
    /// retry after an ambiguous timeout, whose first attempt did run, changes nothing.
    static let settle = RedisScript("""
        \(QuotaScripts.budgetShare)
        local id, unused, reservation, cost, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
        if not redis.call('SET', KEYS[n * 4 + 1], '1', 'NX', 'EX', tonumber(ARGV[6 + n * 3])) then return '' end
        local percents = {}
        for i = 0, n - 1 do
          local rk, ck, bk, resk = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
          local tpm, maxc, budget = tonumber(ARGV[6 + i * 3]), tonumber(ARGV[7 + i * 3]), tonumber(ARGV[8 + i * 3])
          if tpm > 0 and unused ~= 0 then
            local tat = tonumber(redis.call('HGET', rk, 't'))
            if tat then redis.call('HSET', rk, 't', string.format('%.6f', tat - unused * 60 / tpm)) end
          end
          if maxc > 0 then redis.call('ZREM', ck, id) end
          if budget >= 0 then
            -- A reservation whose lease already expired was released by a claim.
            local reserved
            if redis.call('ZREM', resk, id .. ':' .. ARGV[3]) == 1 then
              reserved = redis.call('HINCRBY', bk, 'reserved', string.format('%d', -reservation))
            end
            local spent = redis.call('HINCRBY', bk, 'spent', ARGV[4])
            if reserved == nil then
              reserved = redis.call('HGET', bk, 'reserved')
              -- No claim made this day's hash (it never reached Redis): this settlement did.
              if not reserved then redis.call('EXPIRE', bk, 172800) end
            end
            reserved = math.max(0, tonumber(reserved) or 0)
            percents[#percents + 1] = share(i, spent + reserved, budget)
          end
        end
        return table.concat(percents, ',')
        """)

    /// Adds a replica's spend today to each budget scope and sets its marker, once: a second
    /// run (another request of the same replica noticed the loss too) changes nothing.
    /// KEYS[1] the marker, KEYS[2...] budget hashes; ARGV their nanodollars, then the marker's text.
    static let seed = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        for i = 2, #KEYS do
          redis.call('HINCRBY', KEYS[i], 'spent', ARGV[i - 1])
          if redis.call('TTL', KEYS[i]) == -1 then redis.call('EXPIRE', KEYS[i], 172800) end
        end
        redis.call('SET', KEYS[1], ARGV[#ARGV])
        return 1
        """)
}
