import Foundation
import NIOCore
import TollgateUpstream

/// An HTTP client for tests, on the same libcurl client the gateway uses upstream: whole
/// answers for ordinary calls, or the live body stream for streaming and disconnect tests.
public struct TestHTTPClient: Sendable {
    public let client: UpstreamClient
    public let baseURL: String

    public let port: Int

    public init(client: UpstreamClient, port: Int) {
        self.port = port
        self.client = client
        self.baseURL = "http://127.0.0.1:\(port)"
    }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: Data

        public func header(_ name: String) -> String? {
            self.headers.last { $0.name.lowercased() == name.lowercased() }?.value
        }

        public var text: String { String(decoding: self.body, as: UTF8.self) }

        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: self.body)) as? [String: Any]
        }

        /// `error.code` / `error.type` / `error.message` of an OpenAI error body.
        public var errorField: (code: String?, type: String?, message: String?) {
            let error = self.json?["error"] as? [String: Any]
            return (error?["code"] as? String, error?["type"] as? String, error?["message"] as? String)
        }
    }

    public func send(
        _ method: String,
        _ path: String,
        headers: [(name: String, value: String)] = [],
        body: some DataProtocol = Data()
    ) async throws -> Reply {
        let response = try await self.open(method, path, headers: headers, body: body)
        let collected = try await response.collectBody(upTo: 256 << 20)
        return Reply(status: response.status, headers: response.headers, body: Data(collected.readableBytesView))
    }

    public func open(
        _ method: String,
        _ path: String,
        headers: [(name: String, value: String)] = [],
        body: some DataProtocol = Data()
    ) async throws -> UpstreamResponse {
        let bytes = Array(body)
        let request = UpstreamRequest(
            method: method,
            url: self.baseURL + path,
            headers: headers,
            body: method == "GET" && bytes.isEmpty ? nil : ByteBuffer(bytes: bytes),
            timeouts: UpstreamTimeouts(connect: .seconds(5), total: .seconds(60), idle: .seconds(30))
        )
        return try await self.client.execute(request)
    }
}
