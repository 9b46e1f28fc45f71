import Foundation
import Testing
@testable import TollgateCore

@Suite struct AnthropicMessagesRequestTests {
    func decode(_ json: String) throws -> AnthropicMessagesRequest {
        try JSONDecoder().decode(AnthropicMessagesRequest.self, from: Data(json.utf8))
    }

    func validationError(_ json: String) -> RequestValidationError? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return RequestValidationError(decoding: error)
        }
    }

    @Test func keepsUnknownFieldsThroughARoundTrip() throws {
        let data = try Fixture.data("anthropic-request-tool-result.json")
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["container"] = "container_011CPR5CNjB747bTd36fQLFk"
        object["service_tier"] = "auto"
        let json = try JSONSerialization.data(withJSONObject: object)
        let request = try JSONDecoder().decode(AnthropicMessagesRequest.self, from: json)
        #expect(request.maxTokens == 1024)
        #expect(request.messages.count == 3)
        #expect(request.additionalFields["service_tier"] == "auto")
        let again = try JSONSerialization.jsonObject(with: try encodeJSON(request)) as! NSDictionary
        #expect(again == object as NSDictionary)
    }

    @Test func readsSystemUserAndStream() throws {
        let request = try decode(String(decoding: try Fixture.data("anthropic-request-tools.json"), as: UTF8.self))
        #expect(request.isStreaming)
        #expect(request.userID == "13803d75-b4b5-4c3e-b2a2-6f21399b021b")
        #expect(request.system?.text == "You are a weather assistant.")
        #expect(request.toolChoice?["type"] == "any")
    }

    @Test(arguments: [
        (#"{"messages":[{"role":"user","content":"x"}],"max_tokens":5}"#, "model"),
        (#"{"model":"m","max_tokens":5}"#, "messages"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#, "max_tokens"),
        (#"{"model":"m","messages":[],"max_tokens":5}"#, "messages"),
        (#"{"model":"m","messages":[{"role":"system","content":"x"}],"max_tokens":5}"#, "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user"}],"max_tokens":5}"#, "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":5}],"max_tokens":5}"#, "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}],"max_tokens":5}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, "max_tokens"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"temperature":1.5}"#, "temperature"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"system":[{"type":"image"}]}"#, "system[0].type"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"tools":[{"input_schema":{}}]}"#, "tools[0].name"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"tool_choice":{"type":"tool"}}"#, "tool_choice.name"),
    ])
    func validationNamesTheParameter(_ json: String, _ param: String) throws {
        let error = try #require(validationError(json))
        #expect(error.param == param, "\(error.message)")
    }
}
