import NIOCore

/// Ledger rows flattened into one byte buffer: what the writer's queue holds and what a batch
/// is bound to SQLite from.
///
/// Queuing a row copies its text once, into the buffer; nothing in it is reference counted.
/// Queuing `LedgerEntry` values instead retained each of a row's dozen strings on the
/// request's thread for every copy the queue made, and released them on the writer's thread,
/// so the shared strings' (route, model, key) reference counts moved between threads on every
/// request (bench/RESULTS.md, "Ledger rows as bytes"). The writer binds the text straight from
/// the buffer (`SQLITE_STATIC`): SQLite copies none of it.
///
/// Layout of a row, in the machine's byte order: thirteen `Int64`s (time, the three token
/// counts, cost, status, latency, upstream latency, time to first token, attempts, cache
/// avoided, requested cost, failed attempts), a flags byte, then sixteen strings, each an `Int32` length (`-1` for nil) and its UTF-8 bytes, in the order
/// the insert binds them (cache status and fallback by their raw values).
struct LedgerRows: Sendable {
    private var bytes: ByteBuffer
    /// Where each row ends (a writer index of `bytes`); row `i` starts where `i - 1` ends.
    private var ends: [Int]

    private static let allocator = ByteBufferAllocator()
    private static let stream: UInt8 = 1
    private static let hasUpstreamLatency: UInt8 = 2
    private static let hasTimeToFirstToken: UInt8 = 4
    private static let truncated: UInt8 = 8
    private static let hasRequestedCost: UInt8 = 16

    init(capacity: Int = 0) {
        self.bytes = Self.allocator.buffer(capacity: capacity)
        self.ends = []
    }

    init(_ entries: some Sequence<LedgerEntry>, storeText: Bool) {
        self.init()
        for entry in entries { self.append(entry, storeText: storeText) }
    }

    var count: Int { self.ends.count }
    var isEmpty: Bool { self.ends.isEmpty }
    /// Bytes the buffer holds room for (what keeping it for reuse keeps allocated).
    var capacity: Int { self.bytes.capacity }

    /// Bytes of a row before its strings: thirteen `Int64`s and the flags.
    private static let fixedSize = 13 * 8 + 1
    private static let stringCount = 16

    /// Appends `entry`. Prompt and response text are kept only with `storeText`.
    ///
    /// The row's size is counted first and the buffer asked for room once: each of the
    /// buffer's own `write` calls checks its capacity and uniqueness, and two dozen of them
    /// per row cost more than the copying.
    mutating func append(_ entry: LedgerEntry, storeText: Bool) {
        let prompt = storeText ? entry.promptText : nil
        let response = storeText ? entry.responseText : nil
        var size = Self.fixedSize + Self.stringCount * 4
        size += entry.requestID.utf8.count + Self.length(entry.keyID) + Self.length(entry.team) + Self.length(entry.user)
        size += Self.length(entry.route) + Self.length(entry.requestedModel) + Self.length(entry.servedModel)
        size += Self.length(entry.provider) + entry.cacheStatus.rawValue.utf8.count + entry.fallback.rawValue.utf8.count
        size += Self.length(entry.errorCode) + Self.length(entry.featuresJSON) + Self.length(prompt) + Self.length(response)
        size += Self.length(entry.attemptErrors) + Self.length(entry.tagsJSON)
        var flags: UInt8 = entry.stream ? Self.stream : 0
        if entry.truncated { flags |= Self.truncated }
        if entry.upstreamLatencyMs != nil { flags |= Self.hasUpstreamLatency }
        if entry.timeToFirstTokenMs != nil { flags |= Self.hasTimeToFirstToken }
        if entry.requestedCostNanodollars != nil { flags |= Self.hasRequestedCost }
        self.bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { buffer in
            var out = RowWriter(base: buffer.baseAddress!)
            out.int64(entry.timeMs)
            out.int64(Int64(entry.inputTokens))
            out.int64(Int64(entry.cachedInputTokens))
            out.int64(Int64(entry.outputTokens))
            out.int64(entry.costNanodollars)
            out.int64(Int64(entry.httpStatus))
            out.int64(Int64(entry.latencyMs))
            out.int64(Int64(entry.upstreamLatencyMs ?? 0))
            out.int64(Int64(entry.timeToFirstTokenMs ?? 0))
            out.int64(Int64(entry.attempts))
            out.int64(entry.cacheAvoidedNanodollars)
            out.int64(entry.requestedCostNanodollars ?? 0)
            out.int64(entry.failedAttemptsNanodollars)
            out.byte(flags)
            out.text(entry.requestID)
            out.text(entry.keyID)
            out.text(entry.team)
            out.text(entry.user)
            out.text(entry.route)
            out.text(entry.requestedModel)
            out.text(entry.servedModel)
            out.text(entry.provider)
            out.text(entry.cacheStatus.rawValue)
            out.text(entry.fallback.rawValue)
            out.text(entry.attemptErrors)
            out.text(entry.errorCode)
            out.text(entry.featuresJSON)
            out.text(prompt)
            out.text(response)
            out.text(entry.tagsJSON)
            precondition(out.offset == size, "a ledger row is as long as counted")
            return size
        }
        self.ends.append(self.bytes.writerIndex)
    }

    private static func length(_ string: String?) -> Int { string?.utf8.count ?? 0 }

    /// Writes one row into room the buffer made for it.
    private struct RowWriter {
        let base: UnsafeMutableRawPointer
        var offset = 0

        mutating func int64(_ value: Int64) {
            self.base.storeBytes(of: value, toByteOffset: self.offset, as: Int64.self)
            self.offset += 8
        }

        mutating func byte(_ value: UInt8) {
            self.base.storeBytes(of: value, toByteOffset: self.offset, as: UInt8.self)
            self.offset += 1
        }

        mutating func text(_ string: String?) {
            guard let string else {
                self.base.storeBytes(of: -1, toByteOffset: self.offset, as: Int32.self)
                self.offset += 4
                return
            }
            let count = string.utf8.count
            self.base.storeBytes(of: Int32(count), toByteOffset: self.offset, as: Int32.self)
            self.offset += 4
            let target = UnsafeMutableRawBufferPointer(start: self.base + self.offset, count: count)
            let copied: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
                target.copyMemory(from: UnsafeRawBufferPointer(bytes))
            }
            if copied == nil { _ = target.copyBytes(from: string.utf8) }
            self.offset += count
        }
    }

    /// Moves the first `count` rows (all of them when there are fewer) into `batch`, which
    /// is emptied first.
    mutating func moveFirst(_ count: Int, into batch: inout LedgerRows) {
        batch.removeAll()
        let count = min(max(count, 0), self.count)
        guard count > 0 else { return }
        guard count < self.count else {
            swap(&self, &batch)
            return
        }
        batch.append(self, rows: 0..<count)
        self.bytes.moveReaderIndex(to: self.ends[count - 1])
        self.ends.removeFirst(count)
    }

    /// Empties the rows, keeping the buffer's memory for the next ones.
    mutating func removeAll() {
        self.bytes.clear()
        self.ends.removeAll(keepingCapacity: true)
    }

    private mutating func append(_ other: LedgerRows, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        let start = other.start(ofRow: rows.lowerBound)
        let end = other.ends[rows.upperBound - 1]
        let offset = self.bytes.writerIndex - start
        self.bytes.writeImmutableBuffer(other.bytes.getSlice(at: start, length: end - start)!)
        for row in rows { self.ends.append(other.ends[row] + offset) }
    }

    private func start(ofRow row: Int) -> Int {
        row == 0 ? self.bytes.readerIndex : self.ends[row - 1]
    }

    // MARK: - Reading

    /// One row, read in place: its text points into the buffer, valid only inside `forEach`.
    struct Row: ~Copyable {
        fileprivate let base: UnsafeRawPointer
        fileprivate var offset: Int

        mutating func int64() -> Int64 {
            defer { self.offset += 8 }
            return self.base.loadUnaligned(fromByteOffset: self.offset, as: Int64.self)
        }

        mutating func byte() -> UInt8 {
            defer { self.offset += 1 }
            return self.base.load(fromByteOffset: self.offset, as: UInt8.self)
        }

        /// The next string's UTF-8 bytes; nil for a nil string. Never a null base address,
        /// even for an empty string.
        mutating func text() -> UnsafeRawBufferPointer? {
            let length = Int(self.base.loadUnaligned(fromByteOffset: self.offset, as: Int32.self))
            self.offset += 4
            guard length >= 0 else { return nil }
            defer { self.offset += length }
            return UnsafeRawBufferPointer(start: self.base + self.offset, count: length)
        }

        /// The fixed part of a row, in the order `append` writes it.
        struct Numbers {
            var timeMs, inputTokens, cachedInputTokens, outputTokens, costNanodollars, httpStatus, latencyMs: Int64
            var upstreamLatencyMs, timeToFirstTokenMs: Int64?
            var attempts, cacheAvoidedNanodollars: Int64
            var requestedCostNanodollars: Int64?
            var failedAttemptsNanodollars: Int64
            var stream, truncated: Bool
        }

        mutating func numbers() -> Numbers {
            let timeMs = self.int64(), input = self.int64(), cached = self.int64(), output = self.int64()
            let cost = self.int64(), status = self.int64(), latency = self.int64()
            let upstream = self.int64(), firstToken = self.int64(), attempts = self.int64(), avoided = self.int64()
            let requestedCost = self.int64(), failedAttempts = self.int64()
            let flags = self.byte()
            return Numbers(
                timeMs: timeMs, inputTokens: input, cachedInputTokens: cached, outputTokens: output, costNanodollars: cost,
                httpStatus: status, latencyMs: latency,
                upstreamLatencyMs: flags & LedgerRows.hasUpstreamLatency != 0 ? upstream : nil,
                timeToFirstTokenMs: flags & LedgerRows.hasTimeToFirstToken != 0 ? firstToken : nil,
                attempts: attempts, cacheAvoidedNanodollars: avoided,
                requestedCostNanodollars: flags & LedgerRows.hasRequestedCost != 0 ? requestedCost : nil,
                failedAttemptsNanodollars: failedAttempts, stream: flags & LedgerRows.stream != 0, truncated: flags & LedgerRows.truncated != 0
            )
        }
    }

    /// Calls `body` with each row in order. The pointers a row hands out are valid only
    /// until `forEach` returns.
    func forEach(_ body: (inout Row) throws -> Void) rethrows {
        try self.bytes.withUnsafeReadableBytes { readable in
            guard let base = readable.baseAddress else { return }
            var start = 0
            for end in self.ends {
                var row = Row(base: base, offset: start)
                try body(&row)
                start = end - self.bytes.readerIndex
                precondition(row.offset == start, "a ledger row must be read whole")
            }
        }
    }

    /// The rows as entries (tests, and rows handed back after the writer stopped).
    var entries: [LedgerEntry] {
        var entries: [LedgerEntry] = []
        entries.reserveCapacity(self.count)
        self.forEach { row in
            let numbers = row.numbers()
            // In the order `append` writes them.
            var strings: [String?] = []
            strings.reserveCapacity(Self.stringCount)
            for _ in 0..<Self.stringCount { strings.append(row.text().map { String(decoding: $0, as: UTF8.self) }) }
            entries.append(LedgerEntry(
                timeMs: numbers.timeMs, requestID: strings[0] ?? "", keyID: strings[1], team: strings[2], user: strings[3],
                route: strings[4], requestedModel: strings[5], servedModel: strings[6], provider: strings[7],
                inputTokens: Int(numbers.inputTokens), cachedInputTokens: Int(numbers.cachedInputTokens),
                outputTokens: Int(numbers.outputTokens), costNanodollars: numbers.costNanodollars,
                cacheStatus: strings[8].flatMap(LedgerEntry.CacheStatus.init(rawValue:)) ?? .miss,
                cacheAvoidedNanodollars: numbers.cacheAvoidedNanodollars, requestedCostNanodollars: numbers.requestedCostNanodollars,
                failedAttemptsNanodollars: numbers.failedAttemptsNanodollars,
                fallback: strings[9].flatMap(LedgerEntry.Fallback.init(rawValue:)) ?? .none, attempts: Int(numbers.attempts),
                attemptErrors: strings[10], truncated: numbers.truncated, httpStatus: Int(numbers.httpStatus),
                errorCode: strings[11], stream: numbers.stream, latencyMs: Int(numbers.latencyMs),
                upstreamLatencyMs: numbers.upstreamLatencyMs.map(Int.init), timeToFirstTokenMs: numbers.timeToFirstTokenMs.map(Int.init),
                featuresJSON: strings[12], tagsJSON: strings[15], promptText: strings[13], responseText: strings[14]
            ))
        }
        return entries
    }
}
