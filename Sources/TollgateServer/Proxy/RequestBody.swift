import Foundation
import Hummingbird
import NIOCore
import TollgateCore

enum RequestBody {
    /// One decoder for every request: its options never change after this.
    private static let decoder = JSONDecoder()

    /// Reads the whole request body, answering 413 past `limit`.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw GatewayError.bodyTooLarge(limit: limit)
        }
    }

    /// Decodes a JSON request body into its typed model, turning every failure into a 400
    /// whose message names the offending parameter.
    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(GatewayError) -> T {
        guard body.readableBytes > 0 else {
            throw .invalidRequest("The request body is empty. Send a JSON object.")
        }
        do {
            return try body.withUnsafeReadableBytes { bytes in
                try Self.decoder.decode(T.self, from: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress!), count: bytes.count, deallocator: .none))
            }
        } catch {
            throw .invalidBody(RequestValidationError(decoding: error))
        }
    }

    /// Encodes a model the gateway changed, for sending upstream.
    static func encode<T: Encodable>(_ value: T) throws(GatewayError) -> ByteBuffer {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return ByteBuffer(bytes: try encoder.encode(value))
        } catch {
            throw .internalError
        }
    }
}
