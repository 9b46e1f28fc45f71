/// One command's arguments, encoded once on the calling task for the loop thread.
///
/// All arguments sit back to back in one buffer (plus a trailing 0, so the buffer is never
/// empty and always has a base address), with their lengths beside it: two allocations per
/// command whatever its argument count, and binary-safe.
struct RedisCommand: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var lengths: [Int] = []

    init(_ arguments: [String]) {
        self.lengths.reserveCapacity(arguments.count)
        var total = 1
        for argument in arguments { total += argument.utf8.count }
        self.bytes.reserveCapacity(total)
        for argument in arguments {
            self.bytes.append(contentsOf: argument.utf8)
            self.lengths.append(argument.utf8.count)
        }
        self.bytes.append(0)
    }

    init(_ arguments: [[UInt8]]) {
        self.lengths.reserveCapacity(arguments.count)
        self.bytes.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        for argument in arguments {
            self.bytes.append(contentsOf: argument)
            self.lengths.append(argument.count)
        }
        self.bytes.append(0)
    }

    var argumentCount: Int { self.lengths.count }

    /// Why the command cannot be sent, or nil.
    var invalidReason: String? {
        if self.lengths.isEmpty { return "no arguments" }
        if self.lengths.count > Int(Int32.max) { return "too many arguments" }
        return nil
    }

    /// Calls `body` with hiredis's `argc`, `argv` and `argvlen`, valid only during the call.
    /// `scratch` is reused storage for the `argv` pointers.
    func withArgv<Result>(
        scratch: inout [UnsafePointer<CChar>?],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        self.bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                let base = characters.baseAddress!
                scratch.removeAll(keepingCapacity: true)
                var offset = 0
                for length in self.lengths {
                    scratch.append(base + offset)
                    offset += length
                }
                return scratch.withUnsafeMutableBufferPointer { argv in
                    self.lengths.withUnsafeBufferPointer { lengths in
                        body(Int32(lengths.count), argv.baseAddress!, lengths.baseAddress!)
                    }
                }
            }
        }
    }
}
