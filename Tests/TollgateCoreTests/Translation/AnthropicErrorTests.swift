import Foundation
import NIOCore
import Testing
@testable import TollgateCore

@Suite struct AnthropicErrorTests {
    @Test(arguments: [
        (GatewayError.invalidRequest("bad", param: "x"), "invalid_request_error"),
        (GatewayError.invalidKey, "authentication_error"),
        (GatewayError.modelNotAllowed("m"), "permission_error"),
        (GatewayError.modelNotFound("m"), "not_found_error"),
        (GatewayError.bodyTooLarge(limit: 10), "request_too_large"),
        (GatewayError(status: 429, type: "rate_limit_error", code: "budget_exceeded", message: "over budget"), "rate_limit_error"),
        (GatewayError.internalError, "api_error"),
        (GatewayError.upstreamFailed(provider: "p", detail: "d"), "api_error"),
        (GatewayError.providerUnavailable(provider: "p", reason: "r"), "overloaded_error"),
        (GatewayError.upstreamTimeout(provider: "p"), "timeout_error"),
    ])
    func errorTypes(_ error: GatewayError, _ type: String) throws {
        #expect(error.anthropicErrorType == type)
        let body = try JSONSerialization.jsonObject(with: Data(error.anthropicBody().readableBytesView)) as! [String: Any]
        #expect(body["type"] as? String == "error")
        #expect(body["error"] as? NSDictionary == ["type": type, "message": error.message])
    }

    @Test func streamEventAndRequestID() {
        let error = GatewayError(status: 503, type: "service_unavailable", message: "Overloaded \"now\"")
        #expect(String(buffer: error.anthropicStreamEvent())
            == "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded \\\"now\\\"\"}}\n\n")
        #expect(String(buffer: error.anthropicBody(requestID: "req_1")).hasSuffix(#""request_id":"req_1"}"#))
    }

    func map(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> GatewayError {
        SecretScrubber(secret: "sk-ant-secret")!.scrub(AnthropicProviderError.map(
            status: status, body: ByteBuffer(string: body), headers: headers, provider: "anthropic", model: "claude-sonnet-4-5"
        ))
    }

    @Test func providerErrorsMapLikeOpenAIOnes() {
        let overloaded = map(529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        #expect(overloaded.status == 503 && overloaded.code == "provider_overloaded")
        #expect(overloaded.anthropicErrorType == "overloaded_error")

        let limited = map(429, #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
                          headers: [("Retry-After", "17")])
        #expect(limited.status == 429 && limited.code == "rate_limit_exceeded")
        #expect(limited.headers.map(\.name) == ["Retry-After"] && limited.headers.map(\.value) == ["17"])

        for status in [401, 403] {
            let auth = map(status, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-secret"}}"#)
            #expect(auth.status == 502 && auth.code == "upstream_auth_failed")
            #expect(!auth.message.contains("sk-ant"))
        }

        let invalid = map(400, #"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 100000 > 64000, which is the maximum allowed for sk-ant-secret"}}"#)
        #expect(invalid.status == 400 && invalid.type == "invalid_request_error")
        #expect(invalid.message == "max_tokens: 100000 > 64000, which is the maximum allowed for <redacted>")

        let notFound = map(404, #"{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}"#)
        #expect(notFound.status == 404 && notFound.message == "model: claude-9")
        #expect(map(500, #"{"type":"error","error":{"type":"api_error","message":"Internal"}}"#).status == 502)
        #expect(map(502, "<html>bad gateway</html>").status == 502)
    }

    @Test func streamErrorsMapByType() {
        let overloaded = AnthropicProviderError.mapStreamError(type: "overloaded_error", message: "Overloaded", provider: "anthropic", model: "m")
        #expect(overloaded.status == 503)
        let api = AnthropicProviderError.mapStreamError(type: "api_error", message: "Internal", provider: "anthropic", model: "m")
        #expect(api.status == 502)
    }
}
