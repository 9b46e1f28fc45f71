import Foundation
import Testing
@testable import TollgateCore

@Suite struct ChatCompletionRequestTests {
    func decode(_ json: String) throws -> ChatCompletionRequest {
        try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
    }

    func validationError(_ json: String) -> RequestValidationError? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return RequestValidationError(decoding: error)
        }
    }

    /// The gateway's own path: `JSONParser` straight from the body's bytes.
    func fastPathError(_ json: String) -> RequestValidationError? {
        do {
            _ = try Array(json.utf8).withUnsafeBytes { try ChatCompletionRequest(body: $0) }
            return nil
        } catch {
            return error as? RequestValidationError ?? RequestValidationError(message: "\(error)", param: "unexpected error")
        }
    }

    @Test func keepsUnknownFieldsThroughARoundTrip() throws {
        let json = """
            {"model":"gpt-4o","messages":[{"role":"user","content":"hi","x_note":{"a":[1,2.5,true,null]}}],
             "seed":42,"logit_bias":{"50256":-100},"metadata":{"k":"v"},"temperature":0.2,"stream":true,
             "stream_options":{"include_usage":true}}
            """
        let request = try decode(json)
        #expect(request.model == "gpt-4o")
        #expect(request.isStreaming)
        #expect(request.additionalFields["seed"] == .int(42))
        #expect(request.additionalFields["logit_bias"] == .object(["50256": .int(-100)]))
        #expect(request.messages[0].additionalFields["x_note"] == .object(["a": .array([.int(1), .double(2.5), .bool(true), .null])]))

        let reencoded = try JSONEncoder().encode(request)
        let original = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! NSDictionary
        let roundTripped = try JSONSerialization.jsonObject(with: reencoded) as! NSDictionary
        #expect(original == roundTripped)
    }

    @Test func contentParts() throws {
        let request = try decode("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what is"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"42"}]}
            """)
        #expect(request.messages[0].content?.text == "what is")
        #expect(request.messages[0].content?.hasImage == true)
        #expect(request.messages[1].content == nil)
        #expect(request.messages[2].toolCallID == "c1")
    }

    @Test(arguments: [
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "Missing required parameter: 'model'.", "model"),
        (#"{"model":"m"}"#, "Missing required parameter: 'messages'.", "messages"),
        (#"{"model":"m","messages":[]}"#, "'messages' must contain at least one message.", "messages"),
        (#"{"model":5,"messages":[{"role":"user","content":"x"}]}"#, "Invalid type for 'model': expected a string.", "model"),
        (#"{"model":"m","messages":"hi"}"#, "Invalid type for 'messages': expected an array.", "messages"),
        (#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#, nil, "messages[0].role"),
        (#"{"model":"m","messages":[{"content":"x"}]}"#, "Missing required parameter: 'messages[0].role'.", "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user"}]}"#, "Missing required parameter: 'messages[0].content'.", "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":5}]}"#, nil, "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, nil, "max_tokens"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}"#, nil, "max_tokens"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":7}"#, nil, "temperature"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#, nil, "stream"),
    ] as [(String, String?, String)])
    func invalidBodiesNameTheParameter(json: String, message: String?, param: String) throws {
        let error = try #require(validationError(json))
        #expect(error.param == param)
        if let message { #expect(error.message == message) }
        // Parsing the body directly gives the very same error.
        #expect(fastPathError(json) == error)
    }

    @Test func bothPathsDecodeTheSameRequest() throws {
        let json = #"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"hi"}],"name":"n"},{"role":"assistant","content":null,"tool_calls":[]}],"max_tokens":10.0,"stop":["x"],"n":null,"seed":1}"#
        let fast = try Array(json.utf8).withUnsafeBytes { try ChatCompletionRequest(body: $0) }
        // Foundation's decoder does not keep member order, so compare the content.
        let viaDecoder = try decode(json)
        let encoded = try [fast, viaDecoder].map { try JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) as! NSDictionary }
        #expect(encoded[0] == encoded[1])
        #expect(fast.maxTokens == 10)
        #expect(fast.n == nil)
        #expect(fast.additionalFields["seed"] == .int(1))
    }

    @Test(arguments: ["", "{", "[1,2]", "null", "\"text\"", "{\"model\":\"m\",}", "\u{FEFF}{}"])
    func malformedJSONIsA400NotACrash(json: String) {
        #expect(validationError(json) != nil)
        #expect(fastPathError(json) != nil)
    }

    @Test func invalidUTF8IsRejected() {
        var bytes = Array(#"{"model":"m","messages":[{"role":"user","content":""#.utf8)
        bytes += [0xC3, 0x28, 0xFF]
        bytes += Array(#""}]}"#.utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(bytes)) }
        #expect(throws: RequestValidationError.self) { try bytes.withUnsafeBytes { try ChatCompletionRequest(body: $0) } }
    }
}
