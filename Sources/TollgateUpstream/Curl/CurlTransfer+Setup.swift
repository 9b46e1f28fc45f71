import CCurl
import NIOCore

extension CurlTransfer {
    /// Sets every option of a request on the (freshly reset) easy handle.
    ///
    /// Runs on the calling task before the transfer is submitted: setting options only
    /// writes memory and copies strings, nothing here blocks.
    func configure(_ request: UpstreamRequest, configuration: UpstreamClient.Configuration) throws {
        guard let easy = self.easy else { preconditionFailure("transfer without an easy handle") }
        guard Self.isToken(request.method) else { throw UpstreamError.invalidRequest }

        easy.errorBuffer[0] = 0
        try easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(easy.errorBuffer))
        try easy.set(CURLOPT_URL, string: request.url)
        try self.installCallbacks(on: easy)
        try easy.set(CURLOPT_NOSIGNAL, 1)
        try easy.set(CURLOPT_TCP_NODELAY, 1)
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        try easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)
        try easy.set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, request.timeouts.connect.clampedNanoseconds / 1_000_000)))
        // An empty proxy disables the http_proxy/https_proxy environment variables.
        try easy.set(CURLOPT_PROXY, string: configuration.proxy ?? "")
        if let caBundlePath = configuration.caBundlePath {
            try easy.set(CURLOPT_CAINFO, string: caBundlePath)
        }
        if Self.isHTTPS(request.url) {
            // Wait for a connection being set up to learn whether it multiplexes (HTTP/2)
            // rather than opening another one.
            try easy.set(CURLOPT_PIPEWAIT, 1)
        }

        let sendsBody = try self.setMethodAndBody(request, on: easy)
        try self.setHeaders(request.headers, sendsBody: sendsBody, on: easy)
    }

    /// Returns whether curl sends a body (and so would add a form Content-Type).
    private func setMethodAndBody(_ request: UpstreamRequest, on easy: EasyHandle) throws -> Bool {
        let method = request.method
        if request.body == nil {
            switch method {
            case "GET":
                try easy.set(CURLOPT_HTTPGET, 1)
                return false
            case "HEAD":
                try easy.set(CURLOPT_NOBODY, 1)
                return false
            case "POST", "PUT", "PATCH":
                break
            default:
                try easy.set(CURLOPT_CUSTOMREQUEST, string: method)
                return false
            }
        }
        try easy.set(CURLOPT_POST, 1)
        let body = request.body ?? ByteBuffer()
        try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: body.readableBytes)
        if body.readableBytes == 0 {
            // A valid pointer that is never read (a null one would make curl use a read callback).
            try easy.set(CURLOPT_POSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: ("" as StaticString).utf8Start))
        } else {
            // curl reads the body from this address while the transfer runs: keep the
            // ByteBuffer's storage retained until `releaseResources` (NIO's documented way
            // to hold on to a ByteBuffer's memory beyond the closure).
            let pointer = body.withUnsafeReadableBytesWithStorageManagement { bytes, storage in
                self.requestBodyStorage = storage.retain()
                return UnsafeMutableRawPointer(mutating: bytes.baseAddress!)
            }
            try easy.set(CURLOPT_POSTFIELDS, pointer: pointer)
        }
        if method != "POST" {
            try easy.set(CURLOPT_CUSTOMREQUEST, string: method)
        }
        return true
    }

    private func setHeaders(_ headers: [(name: String, value: String)], sendsBody: Bool, on easy: EasyHandle) throws {
        var hasExpect = false
        var hasAccept = false
        var hasContentType = false
        for header in headers {
            switch header.name.utf8.count {
            case 6 where asciiCaseInsensitiveEquals(header.name, "accept"): hasAccept = true
            case 6 where asciiCaseInsensitiveEquals(header.name, "expect"): hasExpect = true
            case 12 where asciiCaseInsensitiveEquals(header.name, "content-type"): hasContentType = true
            // The body's length is ours to state.
            case 14 where asciiCaseInsensitiveEquals(header.name, "content-length"): continue
            case 17 where asciiCaseInsensitiveEquals(header.name, "transfer-encoding"): continue
            default: break
            }
            try self.appendHeader(name: header.name, value: header.value, on: easy)
        }
        // "Name:" with no value removes a header curl would add by itself: no
        // `Expect: 100-continue` round trip, no `Accept: */*`, no form Content-Type.
        if !hasExpect { try self.appendRaw("Expect:", on: easy) }
        if !hasAccept { try self.appendRaw("Accept:", on: easy) }
        if sendsBody, !hasContentType { try self.appendRaw("Content-Type:", on: easy) }
        try easy.set(CURLOPT_HTTPHEADER, list: self.requestHeaders)
    }

    /// Appends "name: value" (curl copies it), built in a stack buffer.
    private func appendHeader(name: String, value: String, on easy: EasyHandle) throws {
        var name = name
        var value = value
        try name.withUTF8 { name in
            try value.withUTF8 { value in
                guard !name.isEmpty,
                    !name.contains(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ":") }),
                    !value.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
                else { throw UpstreamError.invalidRequest }
                try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: name.count + value.count + 3) { line in
                    var index = line.initialize(fromContentsOf: name)
                    if value.isEmpty {
                        // curl's syntax for a header with an empty value.
                        line.initializeElement(at: index, to: UInt8(ascii: ";"))
                        index += 1
                    } else {
                        line.initializeElement(at: index, to: UInt8(ascii: ":"))
                        line.initializeElement(at: index + 1, to: UInt8(ascii: " "))
                        index = UnsafeMutableBufferPointer(rebasing: line[(index + 2)...]).initialize(fromContentsOf: value)
                            + index + 2
                    }
                    line.initializeElement(at: index, to: 0)
                    try self.appendToList(UnsafeRawPointer(line.baseAddress!).assumingMemoryBound(to: CChar.self))
                }
            }
        }
    }

    private func appendRaw(_ line: StaticString, on easy: EasyHandle) throws {
        try self.appendToList(UnsafeRawPointer(line.utf8Start).assumingMemoryBound(to: CChar.self))
    }

    private func appendToList(_ line: UnsafePointer<CChar>) throws {
        // On failure curl_slist_append leaves the list as it was; releaseResources frees it.
        guard let list = curl_slist_append(self.requestHeaders, line) else {
            throw UpstreamError.other(curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory building headers")
        }
        self.requestHeaders = list
    }

    private static func isToken(_ method: String) -> Bool {
        !method.isEmpty && method.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
    }

    private static func isHTTPS(_ url: String) -> Bool {
        var prefix = "https:".utf8.makeIterator()
        for byte in url.utf8 {
            guard let expected = prefix.next() else { return true }
            if asciiLower(byte) != expected { return false }
        }
        return prefix.next() == nil
    }
}
