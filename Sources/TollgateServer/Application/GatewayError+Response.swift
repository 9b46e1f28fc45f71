import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// The wire shape an error is rendered in: the ingress format the client spoke.
enum ErrorFormat {
    case openAI
}

extension GatewayError {
    /// `{"error":{"message","type","param","code"}}` with the error's status and headers.
    func response(format: ErrorFormat) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for header in self.headers {
            if let name = HTTPField.Name(header.name) { headers[name] = header.value }
        }
        return Response(status: .init(code: self.status), headers: headers, body: .init(byteBuffer: self.openAIBody()))
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
