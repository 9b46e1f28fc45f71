import Foundation
import Hummingbird
import NIOCore
import TollgateCore

enum RequestBody {
    /// One decoder for every request: its options never change after this.
    private static let decoder = JSONDecoder()

    /// Reads the whole request body, answering 413 past `limit`: at once when the declared
    /// `Content-Length` is over it, without waiting for bytes that may never come.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw GatewayError.bodyTooLarge(limit: limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw GatewayError.bodyTooLarge(limit: limit)
        }
    }

    /// Decodes a JSON request body into its typed model, turning every failure into a 400
    /// whose message names the offending parameter.
    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(GatewayError) -> T {
        try Self.requireContent(body)
        // `JSONDecoder` keeps one of a duplicated key silently; the gateway's parser refuses them.
        let strict = body.withUnsafeReadableBytes { bytes in Result { () throws(JSONSyntaxError) in _ = try JSONParser.parse(bytes) } }
        if case .failure(let error) = strict { throw .invalidBody(.notJSON(error)) }
        do {
            return try body.withUnsafeReadableBytes { bytes in
                try Self.decoder.decode(T.self, from: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress!), count: bytes.count, deallocator: .none))
            }
        } catch {
            throw .invalidBody(RequestValidationError(decoding: error))
        }
    }

    /// Decodes a Chat Completions body with the gateway's own parser (`JSONParser`): the same
    /// checks and messages as `decode`, in a fraction of the time.
    static func decodeChatCompletion(from body: ByteBuffer) throws(GatewayError) -> ChatCompletionRequest {
        try Self.requireContent(body)
        let result = body.withUnsafeReadableBytes { bytes in
            Result { () throws(RequestValidationError) -> ChatCompletionRequest in try ChatCompletionRequest(body: bytes) }
        }
        switch result {
        case .success(let request): return request
        case .failure(let error): throw .invalidBody(error)
        }
    }

    /// One 400 for an empty body, whichever parser would have read it.
    private static func requireContent(_ body: ByteBuffer) throws(GatewayError) {
        guard body.readableBytes > 0 else {
            throw .invalidRequest("The request body is empty. Send a JSON object.")
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

    /// The body with top-level members added in front, without decoding or re-encoding it:
    /// the common changes (an output cap, asking for the usage chunk) add a member the client
    /// did not send, and re-encoding a whole request for that costs tens of microseconds.
    /// Nil when the body does not start with an object or already mentions one of the names
    /// (e.g. `"max_completion_tokens": null`): then the caller re-encodes. Names are the
    /// gateway's own parameter names, written as they are (they need no escaping).
    static func inserting(_ members: [(name: String, json: String)], into body: ByteBuffer) -> ByteBuffer? {
        body.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            let open = ByteScan.skipWhitespace(in: bytes, from: 0)
            guard open < bytes.count, bytes[open] == UInt8(ascii: "{") else { return nil }
            for member in members where ByteScan.containsQuoted(member.name, in: bytes) { return nil }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[(open + 1)...])
            let firstInside = ByteScan.skipWhitespace(in: rest, from: 0)
            let isEmptyObject = firstInside < rest.count && rest[firstInside] == UInt8(ascii: "}")
            var result = ByteBuffer()
            result.reserveCapacity(bytes.count + members.reduce(0) { $0 + $1.name.utf8.count + $1.json.utf8.count + 4 })
            result.writeInteger(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { result.writeInteger(UInt8(ascii: ",")) }
                result.writeInteger(UInt8(ascii: "\""))
                result.writeString(member.name)
                result.writeInteger(UInt8(ascii: "\""))
                result.writeInteger(UInt8(ascii: ":"))
                result.writeString(member.json)
            }
            if !isEmptyObject { result.writeInteger(UInt8(ascii: ",")) }
            result.writeBytes(rest)
            return result
        }
    }
}
