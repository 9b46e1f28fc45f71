import Foundation
import Hummingbird
import NIOCore
import TollgateCore

/// Bodies of the admin API: JSON in, checked as strictly as proxied requests (syntax,
/// duplicate keys), and JSON out.
enum AdminJSON {
    static let maxBodyBytes = 64 << 10

    /// `body` decoded as `T`, or the 400 that names what is wrong.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw GatewayError(status: 413, type: "invalid_request_error", code: "request_too_large", message: "Admin request bodies are at most 64 KiB.")
        }
        let bytes = Array(body.readableBytesView)
        do {
            _ = try JSONParser.parse(bytes)
        } catch {
            throw GatewayError.invalidRequest("The body is not valid JSON: \(error.reason).")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw GatewayError(status: 400, type: "invalid_request_error", code: "missing_parameter", param: key.stringValue, message: "'\(key.stringValue)' is required.")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            guard !field.isEmpty else { throw GatewayError.invalidRequest("The body must be a JSON object.", code: "invalid_parameter") }
            throw GatewayError(status: 400, type: "invalid_request_error", code: "invalid_parameter", param: field, message: "'\(field)' has the wrong type.")
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw GatewayError(status: 400, type: "invalid_request_error", code: "invalid_parameter", param: field.isEmpty ? nil : field, message: context.debugDescription)
        }
    }

    /// `value` as a JSON response (keys sorted, so answers are stable).
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
