import CCurl
import NIOConcurrencyHelpers
import NIOCore

// MARK: - C callbacks

// curl calls these on the loop thread, inside curl_multi_perform or curl_easy_pause.
// `userdata` is the transfer, passed unretained: the loop's active list keeps it alive
// for as long as its handle is on the multi handle.

private func headerCallback(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
}

private func writeCallback(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let chunkAllocator = ByteBufferAllocator()

extension CurlTransfer {
    func installCallbacks(on easy: EasyHandle) throws {
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try easy.set(CURLOPT_PRIVATE, pointer: userdata)
        try easy.set(CURLOPT_HEADERFUNCTION, callback: headerCallback)
        try easy.set(CURLOPT_HEADERDATA, pointer: userdata)
        try easy.set(CURLOPT_WRITEFUNCTION, callback: writeCallback)
        try easy.set(CURLOPT_WRITEDATA, pointer: userdata)
    }

    // MARK: Response head

    /// One header line, CRLF included: a status line, a header, or the blank line that
    /// ends a header block. Only the final (non-1xx) block is kept; trailers are ignored.
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        self.lastActivity = self.loop.now
        if self.headComplete { return line.count }

        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        if end == 0 {
            if (100..<200).contains(self.status) {
                // An interim response (103 Early Hints, 100 Continue): the real one follows.
                self.status = 0
                self.headers.removeAll(keepingCapacity: true)
                return line.count
            }
            self.headComplete = true
            self.loop.headArrived(self)
            return line.count
        }
        if end > 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
            line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/")
        {
            self.status = Self.parseStatus(line, end: end)
            self.headers.removeAll(keepingCapacity: true)
            return line.count
        }
        if line[0] == UInt8(ascii: " ") || line[0] == UInt8(ascii: "\t") {
            // obs-fold continuation of the previous header.
            if !self.headers.isEmpty {
                let more = Self.trimmed(line, from: 0, to: end)
                self.headers[self.headers.count - 1].value += " " + more
            }
            return line.count
        }
        guard let colon = line[0..<end].firstIndex(of: UInt8(ascii: ":")) else { return line.count }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        self.headers.append((name: name, value: Self.trimmed(line, from: colon + 1, to: end)))
        return line.count
    }

    private static func trimmed(_ line: UnsafeRawBufferPointer, from start: Int, to end: Int) -> String {
        var start = start
        var end = end
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    }

    /// "HTTP/1.1 200 OK" / "HTTP/2 200" -> 200; 0 if malformed.
    private static func parseStatus(_ line: UnsafeRawBufferPointer, end: Int) -> Int {
        guard var index = line[0..<end].firstIndex(of: UInt8(ascii: " ")) else { return 0 }
        while index < end, line[index] == UInt8(ascii: " ") { index += 1 }
        var status = 0
        var digits = 0
        while index < end, digits < 3, line[index] >= UInt8(ascii: "0"), line[index] <= UInt8(ascii: "9") {
            status = status * 10 + Int(line[index] - UInt8(ascii: "0"))
            index += 1
            digits += 1
        }
        return digits == 3 ? status : 0
    }

    // MARK: Response body

    /// A piece of the body. Returns `CURL_WRITEFUNC_PAUSE` without taking it while the
    /// consumer is behind; curl then stops reading the socket and delivers this same data
    /// again after `curl_easy_pause(CURLPAUSE_CONT)`.
    func receiveBody(_ data: UnsafeRawBufferPointer) -> Int {
        self.lastActivity = self.loop.now
        guard data.count > 0 else { return 0 }
        if !self.headComplete {
            // Body bytes without a header block (cannot happen with HTTP/1.1 or 2).
            self.headComplete = true
            self.loop.headArrived(self)
        }
        var chunk = chunkAllocator.buffer(capacity: data.count)
        chunk.writeBytes(data)
        switch self.shared.withLockedValue({ $0.body.yield(chunk) }) {
        case .accepted, .drop:
            return data.count
        case .handOff(let waiter, let chunk):
            waiter.resume(returning: chunk)
            return data.count
        case .pause:
            self.curlPaused = true
            return Int(TG_CURL_WRITEFUNC_PAUSE)
        }
    }
}
