import Foundation

/// The semantic cache's file in the data dir, so that a restart warms from it: a header
/// (magic, version, dimensions) and one record per entry, little-endian. A file of another
/// version or dimension, or a truncated one, is refused whole (the cache starts empty).
enum SemanticSnapshot {
    struct Record {
        var partition: String
        var vector: [Float]
        var profile: QuestionProfile
        var payload: [UInt8]
        var expiry: Double
    }

    struct Corrupt: Error, CustomStringConvertible {
        var description: String
    }

    static let magic = Array("TGSEMCACHE".utf8)
    static let version: UInt32 = 1

    static func write(_ records: [Record], path: String, dimensions: Int) throws {
        var out: [UInt8] = magic
        append(version, to: &out)
        append(UInt32(dimensions), to: &out)
        append(UInt64(records.count), to: &out)
        for record in records {
            appendBytes(Array(record.partition.utf8), to: &out)
            for value in record.vector { append(value.bitPattern, to: &out) }
            append(record.expiry.bitPattern, to: &out)
            append(UInt32(record.profile.tokenVectors.count), to: &out)
            for value in record.profile.tokenVectors { append(value.bitPattern, to: &out) }
            append(UInt32(record.profile.numbers.count), to: &out)
            for value in record.profile.numbers { append(value, to: &out) }
            append(UInt32(record.profile.wordSequence.count), to: &out)
            for value in record.profile.wordSequence { append(value, to: &out) }
            out.append(record.profile.negated ? 1 : 0)
            appendBytes(record.payload, to: &out)
        }
        let temporary = path + ".tmp"
        try Data(out).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw Corrupt(description: "could not move the snapshot into place (errno \(errno))") }
    }

    static func read(path: String, dimensions: Int) throws -> [Record] {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var reader = Reader(bytes: data)
        guard Array(try reader.bytes(magic.count)) == magic else { throw Corrupt(description: "not a semantic cache snapshot") }
        let fileVersion: UInt32 = try reader.integer()
        guard fileVersion == version else { throw Corrupt(description: "snapshot version \(fileVersion), expected \(version)") }
        let fileDimensions: UInt32 = try reader.integer()
        guard Int(fileDimensions) == dimensions else {
            throw Corrupt(description: "snapshot of \(fileDimensions)-dimension vectors, the model has \(dimensions)")
        }
        let count: UInt64 = try reader.integer()
        var records: [Record] = []
        for _ in 0..<count {
            let partition = String(decoding: try reader.sized(), as: UTF8.self)
            var vector: [Float] = []
            vector.reserveCapacity(dimensions)
            for _ in 0..<dimensions { vector.append(Float(bitPattern: try reader.integer())) }
            let expiry = Double(bitPattern: try reader.integer())
            let tokenCount: UInt32 = try reader.integer()
            var tokens: [Float16] = []
            tokens.reserveCapacity(Int(tokenCount))
            for _ in 0..<tokenCount { tokens.append(Float16(bitPattern: try reader.integer())) }
            let numbers: [UInt64] = try reader.list()
            let words: [UInt64] = try reader.list()
            let negated = try reader.bytes(1).first == 1
            let payload = try reader.sized()
            records.append(Record(
                partition: partition, vector: vector,
                profile: QuestionProfile(tokenVectors: tokens, numbers: numbers, negated: negated, wordSequence: words),
                payload: payload, expiry: expiry
            ))
        }
        return records
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        append(UInt32(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    private struct Reader {
        let data: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) { self.data = bytes }

        mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, offset + count <= data.count else { throw Corrupt(description: "the snapshot is truncated") }
            defer { offset += count }
            return data[offset..<offset + count]
        }

        mutating func integer<T: FixedWidthInteger>() throws -> T {
            let slice = try bytes(MemoryLayout<T>.size)
            var value = T.zero
            for (shift, byte) in slice.enumerated() { value |= T(byte) << (shift * 8) }
            return value
        }

        mutating func sized() throws -> [UInt8] {
            let count: UInt32 = try integer()
            return Array(try bytes(Int(count)))
        }

        mutating func list() throws -> [UInt64] {
            let count: UInt32 = try integer()
            guard Int(count) * 8 <= data.count - offset else { throw Corrupt(description: "the snapshot is truncated") }
            return try (0..<count).map { _ in try integer() }
        }
    }
}
