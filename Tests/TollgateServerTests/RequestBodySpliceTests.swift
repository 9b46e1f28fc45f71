import Foundation
import NIOCore
import Testing
@testable import TollgateServer

@Suite struct RequestBodySpliceTests {
    static func json(_ buffer: ByteBuffer?) throws -> [String: Any] {
        let buffer = try #require(buffer)
        return try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func addedMembersKeepEverythingTheClientSent() throws {
        let body = ByteBuffer(string: #"  {"model":"gpt-4o","messages":[],"x_vendor":{"a":[1,2]}}"#)
        let spliced = RequestBody.inserting([("max_completion_tokens", "512"), ("stream_options", #"{"include_usage":true}"#)], into: body)
        let object = try Self.json(spliced)
        #expect(object["max_completion_tokens"] as? Int == 512)
        #expect((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(object["model"] as? String == "gpt-4o" && (object["x_vendor"] as? [String: Any]) != nil)
        #expect(try Self.json(RequestBody.inserting([("a", "1")], into: ByteBuffer(string: "{ }")))["a"] as? Int == 1)
    }

    @Test func refusesWhenTheNameIsAlreadyThereOrTheBodyIsNoObject() {
        // `"max_completion_tokens": null` decodes as absent; a second member would be ambiguous.
        #expect(RequestBody.inserting([("max_completion_tokens", "5")], into: ByteBuffer(string: #"{"max_completion_tokens":null}"#)) == nil)
        #expect(RequestBody.inserting([("a", "1")], into: ByteBuffer(string: "[1]")) == nil)
        #expect(RequestBody.inserting([("a", "1")], into: ByteBuffer(string: "")) == nil)
    }
}
