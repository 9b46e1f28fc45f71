import NIOCore

/// Finds a provider credential in JSON text the way a client reads it, not only byte for byte:
/// inside string literals after JSON unescaping (`\u0073k-...`, `\/`), and split across
/// string values that a client concatenates (the deltas of one choice's content or tool
/// arguments, event after event). A string value's "path" (keys and array indices from the
/// root of its document) names the text it belongs to: `choices.0.delta.content` in every
/// OpenAI chunk, `delta.text` in every Anthropic delta. Each path has its own matcher, so a key
/// split into two deltas is found even with other fields (ids, model names) in between.
///
/// Buffers go in as they would leave; what comes out is the same bytes, with every character
/// of a found credential cut and `<redacted>` in place of its first. While a path ends in a
/// prefix of the credential, the buffers holding that prefix are kept back (one delta's delay)
/// until the next text shows whether it is the credential. Non-string bytes are the caller's
/// to check (``SecretScrubber/scrub(_:)-(ByteBuffer)`` finds the credential whole anywhere).
/// Credentials are matched as ASCII (a `\u` escape of a non-ASCII character never matches).
public struct SecretStreamScrubber: Sendable {
    /// A place in the stream: a buffer's sequence number and an offset in it.
    private struct Position: Sendable {
        var buffer: Int
        var offset: Int
    }

    /// One credential character as it appeared: possibly an escape several bytes long.
    private struct MatchedCharacter: Sendable {
        var start: Position
        var end: Position
    }

    private enum Frame: Sendable {
        case object(keyHash: Int, expectingKey: Bool)
        case array(index: Int)
    }

    private enum StringKind: Sendable { case none, key, value }

    private let secret: [UInt8]
    /// KMP failure function of `secret`.
    private let fallback: [Int]

    // JSON lexer state, carried across buffers.
    private var frames: [Frame] = []
    private var inString = StringKind.none
    /// 0 none, 1 after a backslash, 2...5 reading the hex digits of `\u`.
    private var escape = 0
    private var escapeValue: UInt32 = 0
    private var escapeStart = Position(buffer: 0, offset: 0)
    private var keyHash = 0
    private var path: Int?
    /// Characters matched so far in the string being read.
    private var current: [MatchedCharacter] = []

    /// Partial matches of paths not being read now, by path (only while not empty).
    private var partial: [Int: [MatchedCharacter]] = [:]
    /// Buffers not yet released, oldest first; `held[0]` has sequence number `heldBase`.
    private var held: [ByteBuffer] = []
    private var heldBase = 0
    /// Byte ranges to cut, by buffer sequence number; `replace` puts the marker in.
    private var cuts: [Int: [(start: Int, end: Int, replace: Bool)]] = [:]

    public init?(secret: String) {
        guard secret.utf8.count >= 8 else { return nil }
        self.secret = Array(secret.utf8)
        var fallback = [Int](repeating: 0, count: self.secret.count)
        var length = 0
        for index in 1..<self.secret.count {
            while length > 0 && self.secret[index] != self.secret[length] { length = fallback[length - 1] }
            if self.secret[index] == self.secret[length] { length += 1 }
            fallback[index] = length
        }
        self.fallback = fallback
    }

    /// Takes the next buffer of the stream; returns what may leave now (maybe nothing, maybe
    /// earlier buffers too), in order.
    public mutating func feed(_ buffer: ByteBuffer) -> ByteBuffer {
        let sequence = self.heldBase + self.held.count
        self.held.append(buffer)
        buffer.withUnsafeReadableBytes { self.lex($0, sequence: sequence) }
        // Everything before the oldest character of an open match may go.
        var keep = sequence + 1
        if let first = self.current.first { keep = min(keep, first.start.buffer) }
        if self.escape != 0 { keep = min(keep, self.escapeStart.buffer) }
        for match in self.partial.values { if let first = match.first { keep = min(keep, first.start.buffer) } }
        return self.release(before: keep)
    }

    /// The stream ended: the rest, unchanged apart from credentials found (an unfinished
    /// prefix is not a credential).
    public mutating func finish() -> ByteBuffer {
        self.current.removeAll()
        self.partial.removeAll()
        return self.release(before: self.heldBase + self.held.count)
    }

    /// A whole document at once: nil when there was nothing to cut (the usual case).
    public static func scrub(_ buffer: ByteBuffer, secret: String) -> ByteBuffer? {
        guard var scrubber = SecretStreamScrubber(secret: secret) else { return nil }
        var result = scrubber.feed(buffer)
        var rest = scrubber.finish()
        guard scrubber.foundAny else { return nil }
        result.writeBuffer(&rest)
        return result
    }

    /// Whether any credential was cut so far.
    public private(set) var foundAny = false

    private mutating func release(before limit: Int) -> ByteBuffer {
        var output = ByteBuffer()
        while self.heldBase < limit, !self.held.isEmpty {
            var buffer = self.held.removeFirst()
            if let ranges = self.cuts.removeValue(forKey: self.heldBase) {
                buffer = Self.apply(ranges, to: buffer)
            }
            if output.readableBytes == 0 { output = buffer } else { output.writeBuffer(&buffer) }
            self.heldBase += 1
        }
        return output
    }

    private static func apply(_ ranges: [(start: Int, end: Int, replace: Bool)], to buffer: ByteBuffer) -> ByteBuffer {
        buffer.withUnsafeReadableBytes { bytes in
            var result = ByteBuffer()
            result.reserveCapacity(bytes.count)
            var copied = 0
            for range in ranges {
                if range.start > copied { result.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[copied..<range.start])) }
                if range.replace { result.writeString(SecretScrubber.replacement) }
                copied = max(copied, range.end)
            }
            if copied < bytes.count { result.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[copied...])) }
            return result
        }
    }

    // MARK: Lexing

    private mutating func lex(_ bytes: UnsafeRawBufferPointer, sequence: Int) {
        var index = 0
        let count = bytes.count
        let first = self.secret[0]
        while index < count {
            // Most of a value string is text that cannot start the credential: skip it.
            if self.inString == .value, self.escape == 0, self.current.isEmpty {
                while index < count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") || byte == first { break }
                    index += 1
                }
                if index == count { break }
            } else if self.inString == .key, self.escape == 0, self.current.isEmpty {
                // A key's bytes only feed its hash until one could start the credential.
                var hash = self.keyHash
                while index < count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") || byte == first { break }
                    hash = (hash &* 33) ^ Int(byte)
                    index += 1
                }
                self.keyHash = hash
                if index == count { break }
            }
            let byte = bytes[index]
            if self.inString != .none {
                if self.escape == 0 {
                    switch byte {
                    case UInt8(ascii: "\\"):
                        self.escape = 1
                        self.escapeStart = Position(buffer: sequence, offset: index)
                    case UInt8(ascii: "\""):
                        self.endString()
                    case UInt8(ascii: "\n"):
                        // A raw newline cannot be inside a JSON string: the text is not the
                        // JSON it looked like (a cut event); start over on the next line.
                        self.endString()
                        self.frames.removeAll()
                    default:
                        let position = Position(buffer: sequence, offset: index)
                        self.character(byte, from: position, to: Position(buffer: sequence, offset: index + 1))
                    }
                } else {
                    self.escaped(byte, at: Position(buffer: sequence, offset: index))
                }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                self.beginString()
            case UInt8(ascii: "{"):
                self.frames.append(.object(keyHash: 0, expectingKey: true))
            case UInt8(ascii: "["):
                self.frames.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !self.frames.isEmpty { self.frames.removeLast() }
            case UInt8(ascii: ","):
                if case .array(let position)? = self.frames.last {
                    self.frames[self.frames.count - 1] = .array(index: position + 1)
                } else if case .object(let hash, _)? = self.frames.last {
                    self.frames[self.frames.count - 1] = .object(keyHash: hash, expectingKey: true)
                }
            case UInt8(ascii: ":"):
                if case .object(let hash, _)? = self.frames.last {
                    self.frames[self.frames.count - 1] = .object(keyHash: hash, expectingKey: false)
                }
            default:
                break
            }
            index += 1
        }
    }

    private mutating func escaped(_ byte: UInt8, at position: Position) {
        let end = Position(buffer: position.buffer, offset: position.offset + 1)
        if self.escape == 1 {
            self.escape = 0
            switch byte {
            case UInt8(ascii: "u"):
                self.escape = 2
                self.escapeValue = 0
            case UInt8(ascii: "n"): self.character(0x0A, from: self.escapeStart, to: end)
            case UInt8(ascii: "t"): self.character(0x09, from: self.escapeStart, to: end)
            case UInt8(ascii: "r"): self.character(0x0D, from: self.escapeStart, to: end)
            case UInt8(ascii: "b"): self.character(0x08, from: self.escapeStart, to: end)
            case UInt8(ascii: "f"): self.character(0x0C, from: self.escapeStart, to: end)
            default: self.character(byte, from: self.escapeStart, to: end)  // \" \\ \/
            }
            return
        }
        let digit: UInt32
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
        default:
            self.escape = 0
            self.character(0, from: self.escapeStart, to: end)  // invalid: matches nothing
            return
        }
        self.escapeValue = self.escapeValue << 4 | digit
        self.escape += 1
        if self.escape == 6 {
            self.escape = 0
            self.character(self.escapeValue < 0x80 ? UInt8(self.escapeValue) : 0, from: self.escapeStart, to: end)
        }
    }

    private mutating func beginString() {
        self.escape = 0
        if case .object(_, true)? = self.frames.last {
            self.inString = .key
            self.keyHash = 5381
        } else {
            self.inString = .value
        }
        // Keys are text too (a credential can be a key), matched within themselves. The path
        // is worked out only when a match crosses strings (rarely): the frames do not change
        // while a string is read.
        self.path = nil
        if self.inString == .value, !self.partial.isEmpty {
            self.current = self.partial.removeValue(forKey: self.currentPath()) ?? []
        }
    }

    /// The path of the value string being read: its object keys and array indices.
    private mutating func currentPath() -> Int {
        if let path = self.path { return path }
        var hasher = Hasher()
        for frame in self.frames {
            switch frame {
            case .object(let key, _): hasher.combine(key)
            case .array(let index): hasher.combine(-1 - index)
            }
        }
        let path = hasher.finalize()
        self.path = path
        return path
    }

    private mutating func endString() {
        if self.inString == .key, case .object? = self.frames.last {
            self.frames[self.frames.count - 1] = .object(keyHash: self.keyHash, expectingKey: false)
        }
        // A value may go on in the next event's value at the same path; a key is whole.
        if !self.current.isEmpty && self.inString == .value { self.partial[self.currentPath()] = self.current }
        self.current.removeAll(keepingCapacity: true)
        self.inString = .none
        self.escape = 0
    }

    /// One decoded character of the string being read.
    private mutating func character(_ byte: UInt8, from start: Position, to end: Position) {
        if self.inString == .key { self.keyHash = (self.keyHash &* 33) ^ Int(byte) }
        var matched = self.current.count
        if matched == 0 && byte != self.secret[0] { return }
        while matched > 0 && self.secret[matched] != byte { matched = self.fallback[matched - 1] }
        if self.current.count > matched { self.current.removeFirst(self.current.count - matched) }
        guard self.secret[matched] == byte else { return }
        self.current.append(MatchedCharacter(start: start, end: end))
        if self.current.count == self.secret.count {
            self.cut(self.current)
            self.current.removeAll(keepingCapacity: true)
        }
    }

    /// Records the byte ranges of a found credential, split by buffer.
    private mutating func cut(_ characters: [MatchedCharacter]) {
        self.foundAny = true
        var first = true
        for character in characters {
            for buffer in character.start.buffer...character.end.buffer {
                let start = buffer == character.start.buffer ? character.start.offset : 0
                let end = buffer == character.end.buffer ? character.end.offset : self.held[buffer - self.heldBase].readableBytes
                self.cuts[buffer, default: []].append((start, end, first))
                first = false
            }
        }
    }
}
