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
        buffer.writeString(#"{"error":{"message":"#)
        buffer.writeJSONString(self.message)
        buffer.writeString(#","type":"#)
        buffer.writeJSONString(self.type)
        buffer.writeString(#","param":"#)
        if let param { buffer.writeJSONString(param) } else { buffer.writeString("null") }
        buffer.writeString(#","code":"#)
        if let code { buffer.writeJSONString(code) } else { buffer.writeString("null") }
        buffer.writeString("}}")
        return buffer
    }

    /// The same error as one server-sent event, for failures after a stream has started.
    func openAIStreamEvent() -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        var body = self.openAIBody()
        buffer.writeBuffer(&body)
        buffer.writeString("\n\n")
        return buffer
    }
}

extension ByteBuffer {
    /// Writes `string` as a JSON string literal with the escapes JSON requires.
    mutating func writeJSONString(_ string: String) {
        self.writeInteger(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): self.writeStaticString("\\\\")
            case UInt8(ascii: "\n"): self.writeStaticString("\\n")
            case UInt8(ascii: "\r"): self.writeStaticString("\\r")
            case UInt8(ascii: "\t"): self.writeStaticString("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.writeStaticString("\\u00")
                self.writeInteger(hex[Int(byte >> 4)])
                self.writeInteger(hex[Int(byte & 0xF)])
            default: self.writeInteger(byte)
            }
        }
        self.writeInteger(UInt8(ascii: "\""))
    }
}
