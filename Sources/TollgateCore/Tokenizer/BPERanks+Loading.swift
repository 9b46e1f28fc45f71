import Foundation

extension BPERanks {
    /// Reads a tiktoken rank file: one token a line, `<base64 bytes> <rank>`; blank lines
    /// are skipped (as tiktoken's `load_tiktoken_bpe` does).
    /// - Throws: ``TokenizerError`` naming the file (and line) when it is missing or malformed.
    static func load(path: String) throws(TokenizerError) -> BPERanks {
        guard let data = FileManager.default.contents(atPath: path) else { throw .rankFileNotFound(path) }
        return try Self.parse([UInt8](data), path: path)
    }

    /// Parses the contents of a rank file; `path` only names it in errors.
    static func parse(_ contents: [UInt8], path: String) throws(TokenizerError) -> BPERanks {
        var arena: [UInt8] = []
        arena.reserveCapacity(contents.count * 3 / 4)
        var tokens: [(start: Int, length: Int, rank: Int)] = []
        tokens.reserveCapacity(contents.count / 16)
        var lineNumber = 0
        var lineStart = 0
        while lineStart < contents.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < contents.count && contents[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var end = lineEnd
            if end > lineStart && contents[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if end == lineStart { continue }
            guard let space = contents[lineStart..<end].firstIndex(of: UInt8(ascii: " ")) else {
                throw .invalidRankFile(path, line: lineNumber, "expected '<base64> <rank>'")
            }
            let start = arena.count
            guard Base64.decode(contents[lineStart..<space], appendingTo: &arena), arena.count > start else {
                throw .invalidRankFile(path, line: lineNumber, "the token is not valid base64")
            }
            var rank = 0
            let digits = contents[(space + 1)..<end]
            guard !digits.isEmpty, digits.count <= 9 else {
                throw .invalidRankFile(path, line: lineNumber, "the rank is not a number below 10⁹")
            }
            for digit in digits {
                guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else {
                    throw .invalidRankFile(path, line: lineNumber, "the rank is not a number below 10⁹")
                }
                rank = rank * 10 + Int(digit - UInt8(ascii: "0"))
            }
            tokens.append((start, arena.count - start, rank))
        }
        guard !tokens.isEmpty else { throw .invalidRankFile(path, line: lineNumber, "the file has no tokens") }
        let ranks: BPERanks
        do throws(RankTableError) {
            ranks = try BPERanks(arena: arena, tokens: tokens)
        } catch {
            switch error {
            case .duplicateRank(let rank):
                throw .invalidRankFile(path, line: 0, "rank \(rank) appears twice")
            case .duplicateToken(let rank, let other):
                throw .invalidRankFile(path, line: 0, "ranks \(other) and \(rank) have the same bytes")
            }
        }
        // Byte-pair merging starts from single bytes, so every byte must be a token.
        for byte in 0...255 {
            var value = UInt8(byte)
            let found = withUnsafePointer(to: &value) { ranks.rank(of: UnsafeBufferPointer(start: $0, count: 1)) }
            guard found != BPERanks.none else {
                throw .invalidRankFile(path, line: 0, "byte \(byte) has no token")
            }
        }
        return ranks
    }
}

/// Standard base64 (RFC 4648, `+/`, `=` padding), decoded without Foundation's `Data`.
enum Base64 {
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(char)] = UInt8(index)
        }
        return table
    }()

    /// Appends the bytes `text` encodes; false when it is not valid padded base64.
    static func decode(_ text: ArraySlice<UInt8>, appendingTo output: inout [UInt8]) -> Bool {
        guard text.count % 4 == 0 else { return false }
        var index = text.startIndex
        while index < text.endIndex {
            let isLast = index + 4 == text.endIndex
            let c0 = values[Int(text[index])], c1 = values[Int(text[index + 1])]
            let p2 = text[index + 2] == UInt8(ascii: "="), p3 = text[index + 3] == UInt8(ascii: "=")
            let c2 = p2 ? 0 : values[Int(text[index + 2])], c3 = p3 ? 0 : values[Int(text[index + 3])]
            guard c0 < 64, c1 < 64, c2 < 64, c3 < 64 else { return false }
            guard !(p2 && !p3), isLast || !(p2 || p3) else { return false }
            output.append(c0 << 2 | c1 >> 4)
            if !p2 { output.append((c1 & 0x0F) << 4 | c2 >> 2) }
            if !p3 { output.append((c2 & 0x03) << 6 | c3) }
            index += 4
        }
        return true
    }
}
