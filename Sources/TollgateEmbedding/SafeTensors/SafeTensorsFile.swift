import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if _endian(big)
#error("safetensors data is little-endian; this reader maps it in place")
#endif

/// A `.safetensors` file mapped read-only into memory.
///
/// The JSON header is parsed once; tensor data stays in the mapping, so F32 weights are used
/// in place (the page cache shares them between processes) and only what is read becomes
/// resident. Format: an 8-byte little-endian header length, a JSON object of
/// `name -> {dtype, shape, data_offsets}`, then the data.
public final class SafeTensorsFile: @unchecked Sendable {
    // @unchecked Sendable: the mapping is PROT_READ, created in init, never written and
    // unmapped only in deinit; every stored property is immutable.

    /// Element type of a tensor, by its safetensors name (`F32`, `F16`, `BF16`, `I64`, ...).
    public struct DType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let float32 = DType(rawValue: "F32")
        public static let float16 = DType(rawValue: "F16")
        public static let bfloat16 = DType(rawValue: "BF16")
        public static let float64 = DType(rawValue: "F64")
        public static let int64 = DType(rawValue: "I64")
        public static let int32 = DType(rawValue: "I32")

        /// Bytes per element, when the type is known.
        public var byteWidth: Int? {
            switch rawValue {
            case "F64", "I64", "U64": 8
            case "F32", "I32", "U32": 4
            case "F16", "BF16", "I16", "U16": 2
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": 1
            default: nil
            }
        }

        public var description: String { rawValue }
    }

    /// One entry of the header.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Absolute offset of the first byte in the file.
        let fileOffset: Int
        let byteCount: Int

        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The file this was read from.
    public let path: String
    /// Every tensor in the file, by name.
    public let tensors: [String: Tensor]
    /// The header's optional `__metadata__` string map.
    public let metadata: [String: String]

    private let base: UnsafeRawPointer
    private let length: Int

    /// Maps `path` and parses its header. Throws ``EmbeddingError/Code/invalidModel`` for a
    /// file that is not valid safetensors, and for one that cannot be opened.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw EmbeddingError.invalidModel(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw EmbeddingError.invalidModel(path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        let size = Int(info.st_size)
        guard size >= 8 else {
            throw EmbeddingError.invalidModel(path, "\(size) bytes is shorter than the 8-byte header length")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
            mapped != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw EmbeddingError.invalidModel(path, "mmap failed: \(String(cString: strerror(errno)))")
        }
        do {
            let header = try Self.parseHeader(UnsafeRawBufferPointer(start: mapped, count: size), path: path)
            self.tensors = header.tensors
            self.metadata = header.metadata
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.path = path
        self.base = UnsafeRawPointer(mapped)
        self.length = size
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), length)
    }

    // MARK: Access

    /// The header entry for `name`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw EmbeddingError.invalidModel(path, "no tensor named '\(name)'")
        }
        return tensor
    }

    /// The raw little-endian bytes of `tensor`, valid while this file is alive.
    public func bytes(of tensor: Tensor) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + tensor.fileOffset, count: tensor.byteCount)
    }

    /// The data of an F32 tensor in place, or `nil` when it is another type or not 4-byte
    /// aligned in the file. Valid while this file is alive.
    public func float32Pointer(_ tensor: Tensor) -> UnsafePointer<Float>? {
        let address = base + tensor.fileOffset
        guard tensor.dtype == .float32, Int(bitPattern: address) % MemoryLayout<Float>.alignment == 0 else {
            return nil
        }
        return address.assumingMemoryBound(to: Float.self)
    }

    /// Copies the values of a floating-point tensor (F32, F16, BF16 or F64) into `destination`,
    /// widening or narrowing to `Float`; `destination` must hold `elementCount` values.
    public func copyFloats(_ tensor: Tensor, to destination: UnsafeMutablePointer<Float>) throws {
        let raw = bytes(of: tensor)
        let count = tensor.elementCount
        switch tensor.dtype {
        case .float32:
            for i in 0..<count { destination[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .float16:
            for i in 0..<count {
                destination[i] = HalfFloat.float(fromBits: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        case .bfloat16:
            for i in 0..<count {
                destination[i] = HalfFloat.float(
                    fromBFloat16Bits: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                )
            }
        case .float64:
            for i in 0..<count { destination[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        default:
            throw EmbeddingError.unsupportedModel(path, "tensor '\(tensor.name)' has dtype \(tensor.dtype), not a float type")
        }
    }

    /// The values of a floating-point tensor as `Float`s (see ``copyFloats(_:to:)``).
    public func floats(_ name: String) throws -> [Float] {
        let tensor = try tensor(name)
        return try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            try copyFloats(tensor, to: buffer.baseAddress!)
            initialized = tensor.elementCount
        }
    }

    /// Drops this mapping's pages from the process's resident set (they stay in the page cache
    /// and fault back in when read again): for after load, once the weights that were copied
    /// are no longer read from the file.
    public func releaseResidentPages() {
        _ = madvise(UnsafeMutableRawPointer(mutating: base), length, Int32(MADV_DONTNEED))
    }

    // MARK: Header

    private struct Header {
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
    }

    private static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws -> Header {
        let headerLength = file.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        guard headerLength <= UInt64(file.count - 8) else {
            throw EmbeddingError.invalidModel(path, "header length \(headerLength) exceeds the file size \(file.count)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = file.count - dataStart
        let json = Data(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        guard let object = try? JSONSerialization.jsonObject(with: json), let entries = object as? [String: Any] else {
            throw EmbeddingError.invalidModel(path, "header is not a JSON object")
        }

        var header = Header()
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let map = value as? [String: String] else {
                    throw EmbeddingError.invalidModel(path, "__metadata__ is not a string map")
                }
                header.metadata = map
                continue
            }
            guard let entry = value as? [String: Any],
                let dtypeName = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                shape.count == (entry["shape"] as? [Any])?.count, offsets.count == 2
            else {
                throw EmbeddingError.invalidModel(path, "tensor '\(name)' needs dtype, shape and two data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end, end <= dataLength else {
                throw EmbeddingError.invalidModel(
                    path, "tensor '\(name)' has offsets \(begin)..<\(end) outside the \(dataLength)-byte data section"
                )
            }
            let dtype = DType(rawValue: dtypeName)
            var elements = 1
            for dimension in shape + [dtype.byteWidth ?? 1] {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw EmbeddingError.invalidModel(path, "tensor '\(name)' shape \(shape) overflows") }
                elements = product
            }
            elements /= dtype.byteWidth ?? 1
            if let width = dtype.byteWidth, elements * width != end - begin {
                throw EmbeddingError.invalidModel(
                    path, "tensor '\(name)' of shape \(shape) \(dtype) needs \(elements * width) bytes, has \(end - begin)"
                )
            }
            header.tensors[name] = Tensor(
                name: name, dtype: dtype, shape: shape, fileOffset: dataStart + begin, byteCount: end - begin
            )
        }
        return header
    }
}
