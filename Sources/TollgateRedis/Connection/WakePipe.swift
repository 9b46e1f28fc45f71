#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A non-blocking pipe that wakes a loop thread sleeping in poll(2).
///
/// `@unchecked Sendable`: only the two file descriptors, written once in `init` and closed
/// in `deinit`, when no thread can be writing any more (every writer holds a reference).
final class WakePipe: @unchecked Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else {
            fatalError("pipe() failed for the Redis loop wakeup (errno \(errno))")
        }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        self.readDescriptor = descriptors[0]
        self.writeDescriptor = descriptors[1]
    }

    deinit {
        close(self.readDescriptor)
        close(self.writeDescriptor)
    }

    /// Any thread. A full pipe (EAGAIN) already means a wakeup is pending.
    func wake() {
        var byte: UInt8 = 1
        while write(self.writeDescriptor, &byte, 1) == -1, errno == EINTR {}
    }

    /// Loop thread: consumes every pending wakeup.
    func drain() {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while true {
            let count = withUnsafeMutableBytes(of: &buffer) { read(self.readDescriptor, $0.baseAddress, $0.count) }
            if count == MemoryLayout.size(ofValue: buffer) || (count == -1 && errno == EINTR) { continue }
            return
        }
    }
}
