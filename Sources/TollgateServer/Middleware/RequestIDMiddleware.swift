import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import TollgateCore

/// Gives each request an id (the client's `X-Tollgate-Request-Id` when it is a sane token),
/// puts it on the logger and on every response, and renders any error in the format of the
/// endpoint called (Anthropic under `/v1/messages`, else OpenAI: `IngressFormat`), so nothing a client sends
/// gets a framework-shaped or empty answer.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requestID = Self.acceptableClientID(request.headers[.tollgateRequestID]) ?? "req_" + RequestID().description
        context.requestID = requestID
        context.logger[metadataKey: "request.id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.errorResponse(for: error, request: request, context: context)
        }
        response.headers[.tollgateRequestID] = requestID
        return response
    }

    /// Client ids are echoed into headers and logs, so only short plain tokens are kept.
    static func acceptableClientID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
        else { return nil }
        return value
    }

    static func errorResponse(for error: any Error, request: Request, context: Context) -> Response {
        let gatewayError: GatewayError
        switch error {
        case let error as GatewayError:
            gatewayError = error
        case let error as any HTTPResponseError:
            gatewayError = Self.map(error, request: request)
        case is HTTPParserError:
            gatewayError = .malformedFraming
        default:
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            gatewayError = .internalError
        }
        if gatewayError.status >= 500 {
            context.logger.warning("request failed", metadata: ["status": "\(gatewayError.status)", "code": "\(gatewayError.code ?? "")"])
        }
        // Decided only when something failed: the success path pays nothing for it.
        return gatewayError.response(format: IngressFormat(path: request.uri.path, headers: request.headers), requestID: context.requestID)
    }

    /// Framework errors (unknown path, body over the limit...) as gateway errors.
    static func map(_ error: any HTTPResponseError, request: Request) -> GatewayError {
        switch error.status {
        case .notFound: return .notFound(path: request.uri.path)
        case .methodNotAllowed: return .methodNotAllowed(method: request.method.rawValue, path: request.uri.path)
        case .contentTooLarge: return .bodyTooLarge(limit: nil)
        default:
            return GatewayError(
                status: error.status.code,
                type: error.status.code < 500 ? "invalid_request_error" : "server_error",
                message: (error as? HTTPError)?.body ?? error.status.reasonPhrase
            )
        }
    }
}

extension HTTPField.Name {
    static let tollgateRequestID = Self("X-Tollgate-Request-Id")!
    static let tollgateRoute = Self("X-Tollgate-Route")!
    static let tollgateModel = Self("X-Tollgate-Model")!
    static let tollgateCache = Self("X-Tollgate-Cache")!
    static let tollgateCacheSimilarity = Self("X-Tollgate-Cache-Similarity")!
    static let tollgateFallback = Self("X-Tollgate-Fallback")!
    static let tollgateUser = Self("X-Tollgate-User")!
    static let tollgateTag = Self("X-Tollgate-Tag")!
    static let xAPIKey = Self("x-api-key")!
    static let upstreamRequestID = Self("X-Tollgate-Upstream-Request-Id")!
}
