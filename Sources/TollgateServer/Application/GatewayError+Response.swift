import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// The API format a client speaks, chosen by the endpoint it called: its requests, answers,
/// streams and errors all come in this shape.
enum IngressFormat: Sendable {
    /// OpenAI Chat Completions (and every other OpenAI-shaped endpoint).
    case openAI
    /// Anthropic Messages, `/v1/messages`.
    case anthropic

    /// The format of a request: Anthropic under `/v1/messages`, and for `/v1/models` asked by
    /// the Anthropic SDK (which sends `anthropic-version`); OpenAI elsewhere.
    init(path: String, headers: HTTPFields) {
        if path.utf8.starts(with: "/v1/messages".utf8) {
            self = .anthropic
        } else if path.utf8.starts(with: "/v1/models".utf8), headers[.anthropicVersion] != nil {
            self = .anthropic
        } else {
            self = .openAI
        }
    }
}

extension GatewayError {
    /// The error's status and headers with the body in the client's format: OpenAI
    /// `{"error":{"message","type","param","code"}}` or Anthropic `{"type":"error","error":{"type","message"}}`.
    func response(format: IngressFormat, requestID: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for header in self.headers {
            if let name = HTTPField.Name(header.name) { headers[name] = header.value }
        }
        let body = switch format {
        case .openAI: self.openAIBody()
        case .anthropic: self.anthropicBody(requestID: requestID)
        }
        return Response(status: .init(code: self.status), headers: headers, body: .init(byteBuffer: body))
    }

    func openAIBody() -> ByteBuffer {
        var buffer = ByteBuffer()
        self.writeOpenAIErrorBody(into: &buffer)
        return buffer
    }
}
