import NIOCore
import NIOHTTP1

/// Closes a connection once its response is written when it cannot carry another request:
/// the request did not ask to keep it alive (HTTP/1.0 without `Connection: keep-alive`,
/// `Connection: close`), or the answer says `Connection: close` (a body left unread after a
/// 413, malformed framing). The server would otherwise keep such a socket open, draining a
/// body nobody will use or waiting for a request that will never come. It sits right after
/// the HTTP/1 decoder, where the request's version is still known.
final class ConnectionClosePolicy: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var requestKeepsAlive = true
    private var requestIsHTTP10 = false
    private var closeAfterResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = self.unwrapInboundIn(data) {
            self.requestKeepsAlive = head.isKeepAlive
            self.requestIsHTTP10 = head.version.minor == 0
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            if !self.requestKeepsAlive {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            } else if self.requestIsHTTP10 {
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")  // 1.0 closes unless told
            }
            self.closeAfterResponse = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
        case .end where self.closeAfterResponse:
            self.closeAfterResponse = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            written.futureResult.whenComplete { _ in context.close(promise: nil) }
            context.write(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }

    /// Hummingbird adds its extra handlers after its HTTP/1 to HTTP-types codec, where the
    /// version is gone; this one, added there, puts the policy right after the decoder.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            do {
                let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try pipeline.addHandler(ConnectionClosePolicy(), position: .after(decoder.handler))
            } catch {
                // Without the policy a connection could outlive its use: refuse to serve on it.
                context.close(promise: nil)
            }
        }
    }
}
