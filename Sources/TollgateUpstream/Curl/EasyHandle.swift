import CCurl

/// A libcurl easy handle and the buffers that live exactly as long as it does.
///
/// Handles are pooled by `CurlLoop` and reset with `curl_easy_reset` before reuse, which
/// keeps their allocations and spares per-request setup.
///
/// `@unchecked Sendable`: a handle is used by one thread at a time — the calling task
/// while it configures a transfer, then the loop thread while the transfer runs. It moves
/// between them only through a lock (the pool's or the loop's command queue), which
/// orders the accesses.
final class EasyHandle: @unchecked Sendable {
    let curl: UnsafeMutableRawPointer
    /// `CURLOPT_ERRORBUFFER`: curl writes failure details here, so it must stay put.
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let curl = curl_easy_init() else { return nil }
        self.curl = curl
        self.errorBuffer = .allocate(capacity: Int(TG_CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(TG_CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(self.curl)
        self.errorBuffer.deallocate()
    }

    /// curl's message for the last failure: the error buffer if curl filled it in.
    func errorMessage(for code: CURLcode) -> String {
        if self.errorBuffer[0] != 0 {
            return String(cString: self.errorBuffer)
        }
        return String(cString: curl_easy_strerror(code))
    }

    // MARK: Options

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(tg_curl_easy_setopt_long(self.curl, option, value))
    }

    func set(_ option: CURLoption, offset value: Int) throws {
        try check(tg_curl_easy_setopt_off_t(self.curl, option, curl_off_t(value)))
    }

    func set(_ option: CURLoption, string value: String) throws {
        // String options are copied by libcurl.
        try check(value.withCString { tg_curl_easy_setopt_string(self.curl, option, $0) })
    }

    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws {
        try check(tg_curl_easy_setopt_ptr(self.curl, option, value))
    }

    func set(_ option: CURLoption, list value: UnsafeMutablePointer<curl_slist>?) throws {
        try check(tg_curl_easy_setopt_slist(self.curl, option, value))
    }

    func set(_ option: CURLoption, callback value: curl_write_callback) throws {
        try check(tg_curl_easy_setopt_write_callback(self.curl, option, value))
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else {
            throw UpstreamError.other(
                curlCode: Int(code.rawValue),
                message: "setting up the transfer failed: " + String(cString: curl_easy_strerror(code))
            )
        }
    }
}

// MARK: - Global state

/// `curl_global_init` runs exactly once, on first use (Swift globals initialise lazily
/// and thread-safely).
private let curlGlobalInitResult: Int = Int(curl_global_init(TG_CURL_GLOBAL_ALL).rawValue)

func ensureCurlGlobalInit() {
    precondition(curlGlobalInitResult == Int(CURLE_OK.rawValue), "curl_global_init failed (\(curlGlobalInitResult))")
}

/// Maps a failed transfer's `CURLcode` to an ``UpstreamError``.
func upstreamError(for code: CURLcode, message: String) -> UpstreamError {
    let kind: UpstreamError
    switch code {
    case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR:
        kind = .connectFailed
    case CURLE_OPERATION_TIMEDOUT:
        // The connect timeout is the only timeout given to curl; idle and total are
        // enforced by the loop's own timer.
        kind = .connectTimeout
    case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2_STREAM, CURLE_HTTP2:
        kind = .connectionClosed
    default:
        return .other(curlCode: Int(code.rawValue), message: message)
    }
    return kind.with(curlCode: Int(code.rawValue), message: message)
}
