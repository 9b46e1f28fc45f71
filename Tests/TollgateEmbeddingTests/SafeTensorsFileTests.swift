import Foundation
import Testing
@testable import TollgateEmbedding

@Suite struct SafeTensorsFileTests {
    /// `tiny.safetensors` is written by the `safetensors` Python package (scripts/embedding_reference.py).
    @Test func readsTensorsWrittenByTheReferenceLibrary() throws {
        let file = try SafeTensorsFile(path: TestSupport.fixture("tiny.safetensors").path)
        #expect(Set(file.tensors.keys) == ["layer.weight", "half", "position_ids"])
        #expect(file.metadata == ["format": "pt"])

        let f32 = try file.tensor("layer.weight")
        #expect(f32.dtype == .float32 && f32.shape == [2, 3])
        #expect(try file.floats("layer.weight") == [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
        #expect(file.float32Pointer(f32) != nil)

        let f16 = try file.tensor("half")
        #expect(f16.dtype == .float16 && f16.shape == [3, 2])
        #expect(file.float32Pointer(f16) == nil)
        let half = try file.floats("half")
        #expect(half == [1.0, -2.5, 0.00010001659393310547, 65504.0, 0.0, 0.3330078125])
        #expect(half[4].sign == .minus)

        let ids = try file.tensor("position_ids")
        #expect(ids.dtype == .int64 && ids.shape == [1, 4])
        let raw = file.bytes(of: ids)
        #expect((0..<4).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } == [0, 1, 2, 3])
        #expect(throws: EmbeddingError.self) { try file.floats("position_ids") }
        #expect(throws: EmbeddingError.self) { try file.tensor("missing") }
    }

    @Test func halfFloatConversionCoversSpecialValues() {
        #expect(HalfFloat.float(fromBits: 0x3C00) == 1)
        #expect(HalfFloat.float(fromBits: 0xC000) == -2)
        #expect(HalfFloat.float(fromBits: 0x0001) == 0x1p-24)  // smallest subnormal
        #expect(HalfFloat.float(fromBits: 0x03FF) == Float(0x3FF) * 0x1p-24)  // largest subnormal
        #expect(HalfFloat.float(fromBits: 0x7BFF) == 65504)
        #expect(HalfFloat.float(fromBits: 0x7C00) == .infinity)
        #expect(HalfFloat.float(fromBits: 0xFC00) == -.infinity)
        #expect(HalfFloat.float(fromBits: 0x7E00).isNaN)
        #expect(HalfFloat.float(fromBFloat16Bits: 0x3F80) == 1)
        #expect(HalfFloat.float(fromBFloat16Bits: 0xC0A0) == -5)
    }

    @Test(arguments: [
        ("short", [UInt8](repeating: 0, count: 4)),
        ("header past end", Self.file(headerLength: 1000, json: "{}")),
        ("not json", Self.file(json: "{nope")),
        ("offsets past end", Self.file(json: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4)),
        ("size mismatch", Self.file(json: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)),
        ("reversed offsets", Self.file(json: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: 8)),
        ("missing dtype", Self.file(json: #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: 8)),
        ("overflowing shape", Self.file(json: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: 8)),
    ])
    func rejectsMalformedFiles(_ name: String, _ bytes: [UInt8]) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-\(UUID()).safetensors")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: EmbeddingError.self) { try SafeTensorsFile(path: url.path) }
        #expect(error.code == .invalidModel, "\(name): \(error)")
        #expect(error.message.contains(url.path))
    }

    @Test func missingFileIsAnInvalidModelNamingThePath() throws {
        let error = try #require(throws: EmbeddingError.self) { try SafeTensorsFile(path: "/nonexistent/model.safetensors") }
        #expect(error.message.contains("/nonexistent/model.safetensors"))
    }

    static func file(headerLength: UInt64? = nil, json: String, data: Int = 0) -> [UInt8] {
        let header = Array(json.utf8)
        var length = (headerLength ?? UInt64(header.count)).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + header + [UInt8](repeating: 0, count: data)
    }
}
