import CCurl
import Logging
import TollgateThreads
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The curl multi handle and the one thread that drives it.
///
/// Callers post commands (add, cancel, resume) to a lock-protected inbox and wake the
/// thread with `curl_multi_wakeup`, the only multi-handle call libcurl allows from another
/// thread. The thread loops: drain the inbox, `curl_multi_perform` (which runs the
/// header/write callbacks), collect finished transfers, enforce idle/total timeouts, then
/// sleep in `curl_multi_poll`. No lock is held across any of those calls.
///
/// `@unchecked Sendable`: `multi` is only used on the loop thread, except for
/// `curl_multi_wakeup`, which libcurl allows from any thread. The loop thread cleans the
/// multi handle up when it stops, after the last in-flight wakeup returned (counted under
/// the inbox lock; none can start once the loop is marked stopped); `deinit` cleans it up
/// if the loop never ran. The fields marked loop-confined are only touched on the loop
/// thread; `inbox` and `pool` are behind their own locks.
final class CurlLoop: @unchecked Sendable {
    enum Command: Sendable {
        case add(CurlTransfer)
        case cancel(CurlTransfer, UpstreamError)
        case resume(CurlTransfer)
    }

    private enum Lifecycle {
        case idle
        case running
        case stopping
        case stopped
    }

    private struct Inbox {
        var commands: [Command] = []
        /// A wakeup is issued (or about to be) that the loop has not consumed by draining yet.
        var wakePending = false
        /// Callers between deciding to call `curl_multi_wakeup` and returning from it.
        var wakersInFlight = 0
        var lifecycle = Lifecycle.idle
        var exitWaiter: UnsafeContinuation<Void, Never>?
    }

    let configuration: UpstreamClient.Configuration
    private let logger: Logger
    private let multi: UnsafeMutableRawPointer
    private let inbox = NIOLockedValueBox(Inbox())
    private let pool = NIOLockedValueBox<[EasyHandle]>([])

    // MARK: Loop-confined

    /// Set once the loop thread called `curl_multi_cleanup`.
    private var multiCleanedUp = false
    /// Monotonic time of this loop iteration, read by callbacks for idle tracking.
    private(set) var now: UInt64 = 0
    private var batch: [Command] = []
    private var active: [CurlTransfer] = []
    /// Transfers whose response head arrived during the current perform pass.
    private var headsArrived: [CurlTransfer] = []
    private var nextTimerCheck = UInt64.max

    init(configuration: UpstreamClient.Configuration, logger: Logger) {
        ensureCurlGlobalInit()
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed (out of memory)")
        }
        self.multi = multi
        self.configuration = configuration
        self.logger = logger
        _ = tg_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, configuration.maxConnectionsPerHost))
        _ = tg_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(0, configuration.maxTotalConnections))
        _ = tg_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxCachedConnections))
        _ = tg_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        self.batch.reserveCapacity(64)
        self.active.reserveCapacity(64)
    }

    deinit {
        // Ran and stopped: the loop thread already cleaned up. Never ran: no transfers.
        if !self.multiCleanedUp {
            curl_multi_cleanup(self.multi)
        }
        // Pooled easy handles are cleaned up by EasyHandle.deinit.
    }

    // MARK: Lifecycle (any thread)

    func start() throws {
        self.inbox.withLockedValue { inbox in
            precondition(inbox.lifecycle == .idle, "UpstreamClient.run() called more than once")
            inbox.lifecycle = .running
        }
        do {
            try LoopThread.spawn(name: "tollgate-curl") { self.runLoop() }
        } catch {
            self.logger.error("upstream loop thread did not start", metadata: ["error": "\(error)"])
            self.inbox.withLockedValue { $0.lifecycle = .idle }
            self.requestStop()
            throw error
        }
        self.logger.debug("upstream loop started")
    }

    func requestStop() {
        let (wake, orphaned) = self.inbox.withLockedValue { inbox -> (Bool, [Command]) in
            switch inbox.lifecycle {
            case .idle:
                // Never ran: fail what was queued here.
                inbox.lifecycle = .stopped
                let commands = inbox.commands
                inbox.commands = []
                return (false, commands)
            case .running:
                inbox.lifecycle = .stopping
                let wake = !inbox.wakePending
                inbox.wakePending = true
                if wake { inbox.wakersInFlight += 1 }
                return (wake, [])
            case .stopping, .stopped:
                return (false, [])
            }
        }
        if wake { self.wakeUp() }
        Self.failUnstarted(orphaned)
    }

    func waitUntilStopped() async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let stopped = self.inbox.withLockedValue { inbox -> Bool in
                if inbox.lifecycle == .stopped { return true }
                inbox.exitWaiter = continuation
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Queues a command for the loop. Returns false once the loop has stopped.
    @discardableResult
    func submit(_ command: Command) -> Bool {
        let (accepted, wake) = self.inbox.withLockedValue { inbox -> (Bool, Bool) in
            switch inbox.lifecycle {
            case .stopped:
                return (false, false)
            case .idle:
                // Drained when the loop starts.
                inbox.commands.append(command)
                return (true, false)
            case .running, .stopping:
                inbox.commands.append(command)
                let wake = !inbox.wakePending
                inbox.wakePending = true
                if wake { inbox.wakersInFlight += 1 }
                return (true, wake)
            }
        }
        if wake { self.wakeUp() }
        return accepted
    }

    /// `curl_multi_wakeup` outside the lock; the caller counted itself in `wakersInFlight`.
    private func wakeUp() {
        curl_multi_wakeup(self.multi)
        self.inbox.withLockedValue { $0.wakersInFlight -= 1 }
    }

    // MARK: Transfers (calling task)

    func makeTransfer(for request: UpstreamRequest) throws -> CurlTransfer {
        let transfer = CurlTransfer(
            loop: self,
            easy: try self.acquireHandle(),
            timeouts: request.timeouts,
            highWatermark: self.configuration.bodyBufferHighWatermark,
            lowWatermark: self.configuration.bodyBufferLowWatermark
        )
        do {
            try transfer.configure(request, configuration: self.configuration)
        } catch {
            transfer.releaseResources()
            throw error
        }
        return transfer
    }

    private func acquireHandle() throws -> EasyHandle {
        if let handle = self.pool.withLockedValue({ $0.popLast() }) {
            curl_easy_reset(handle.curl)
            return handle
        }
        guard let handle = EasyHandle() else {
            throw UpstreamError.other(curlCode: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed")
        }
        return handle
    }

    /// Takes back a handle that is not on the multi handle; frees it if the pool is full.
    func recycle(_ handle: EasyHandle) {
        let limit = self.configuration.handlePoolSize
        _ = self.pool.withLockedValue { pool -> EasyHandle? in
            guard pool.count < limit else { return handle }
            pool.append(handle)
            return nil
        }
    }

    // MARK: The loop (loop thread)

    private func runLoop() {
        while true {
            self.now = NIODeadline.now().uptimeNanoseconds
            if self.drainInbox() { break }
            var running: Int32 = 0
            let performed = curl_multi_perform(self.multi, &running)
            if performed != CURLM_OK {
                self.logger.error("curl_multi_perform failed", metadata: ["code": "\(performed.rawValue)"])
            }
            self.collectFinished()
            self.deliverHeads()
            self.checkTimers()
            let polled = curl_multi_poll(self.multi, nil, 0, self.pollTimeoutMilliseconds(), nil)
            if polled != CURLM_OK {
                self.logger.error("curl_multi_poll failed", metadata: ["code": "\(polled.rawValue)"])
            }
        }
        self.shutDownTransfers()
    }

    /// Runs queued commands. Returns true when the loop must stop.
    private func drainInbox() -> Bool {
        let stopping = self.inbox.withLockedValue { inbox -> Bool in
            swap(&inbox.commands, &self.batch)
            inbox.wakePending = false
            return inbox.lifecycle == .stopping
        }
        if stopping { return true }
        for command in self.batch {
            switch command {
            case .add(let transfer):
                self.add(transfer)
            case .cancel(let transfer, let error):
                switch transfer.loopState {
                case .pending: transfer.cancelRequested = true
                case .active: self.abort(transfer, with: error)
                case .finished: break
                }
            case .resume(let transfer):
                self.resume(transfer)
            }
        }
        self.batch.removeAll(keepingCapacity: true)
        return false
    }

    private func add(_ transfer: CurlTransfer) {
        guard !transfer.cancelRequested, let easy = transfer.easy else {
            // Cancelled before it started: its caller was already told.
            transfer.releaseResources()
            return
        }
        transfer.loopState = .active
        transfer.lastActivity = self.now
        transfer.activeIndex = self.active.count
        self.active.append(transfer)
        self.nextTimerCheck = min(self.nextTimerCheck, self.now + transfer.timerGranularity)
        let added = curl_multi_add_handle(self.multi, easy.curl)
        if added != CURLM_OK {
            self.removeActive(transfer)
            transfer.fail(.other(curlCode: Int(added.rawValue), message: "curl_multi_add_handle failed"))
            transfer.releaseResources()
        }
    }

    private func resume(_ transfer: CurlTransfer) {
        guard transfer.loopState == .active, transfer.curlPaused, let easy = transfer.easy else { return }
        transfer.curlPaused = false
        transfer.lastActivity = self.now
        // May call the write callback right away with the data it refused before.
        let resumed = curl_easy_pause(easy.curl, TG_CURLPAUSE_CONT)
        if resumed != CURLE_OK {
            self.abort(transfer, with: upstreamError(for: resumed, message: easy.errorMessage(for: resumed)))
        }
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(self.multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let curl = message.pointee.easy_handle else { continue }
            let result = tg_curl_msg_result(message)
            var userdata: UnsafeMutableRawPointer?
            _ = tg_curl_easy_getinfo_ptr(curl, CURLINFO_PRIVATE, &userdata)
            guard let userdata else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            guard transfer.loopState == .active, let easy = transfer.easy else { continue }
            curl_multi_remove_handle(self.multi, curl)
            self.removeActive(transfer)
            if result == CURLE_OK {
                transfer.finish()
            } else {
                let error = upstreamError(for: result, message: easy.errorMessage(for: result))
                self.logger.debug("upstream transfer failed", metadata: ["error": "\(error)"])
                transfer.fail(error)
            }
            transfer.releaseResources()
        }
    }

    /// Called from the header callback.
    func headArrived(_ transfer: CurlTransfer) {
        self.headsArrived.append(transfer)
    }

    private func deliverHeads() {
        guard !self.headsArrived.isEmpty else { return }
        for transfer in self.headsArrived where !transfer.headDelivered {
            if !transfer.deliverHead(), transfer.loopState == .active {
                // `execute` was cancelled; its cancel command may still be queued.
                self.abort(transfer, with: .cancelled)
            }
        }
        self.headsArrived.removeAll(keepingCapacity: true)
    }

    /// Takes an active transfer off the multi handle (closing its connection if the
    /// response was not complete) and fails it.
    private func abort(_ transfer: CurlTransfer, with error: UpstreamError) {
        if let easy = transfer.easy {
            curl_multi_remove_handle(self.multi, easy.curl)
        }
        self.removeActive(transfer)
        transfer.fail(error)
        transfer.releaseResources()
    }

    private func removeActive(_ transfer: CurlTransfer) {
        let index = transfer.activeIndex
        guard index >= 0 else { return }
        let last = self.active.removeLast()
        if index < self.active.count {
            self.active[index] = last
            last.activeIndex = index
        }
        transfer.activeIndex = -1
    }

    // MARK: Timers

    private func checkTimers() {
        guard !self.active.isEmpty else {
            self.nextTimerCheck = .max
            return
        }
        guard self.now >= self.nextTimerCheck else { return }
        var granularity = UInt64.max
        var index = 0
        while index < self.active.count {
            let transfer = self.active[index]
            if let error = transfer.expiredTimeout(now: self.now) {
                self.abort(transfer, with: error)  // moves the last transfer into `index`
            } else {
                granularity = min(granularity, transfer.timerGranularity)
                index += 1
            }
        }
        self.nextTimerCheck = granularity == .max ? .max : self.now + granularity
    }

    private func pollTimeoutMilliseconds() -> Int32 {
        // curl_multi_poll shortens this itself for curl's own timers.
        let longest: UInt64 = 10_000
        guard self.nextTimerCheck != .max else { return Int32(longest) }
        guard self.nextTimerCheck > self.now else { return 0 }
        return Int32(min(longest, (self.nextTimerCheck - self.now + 999_999) / 1_000_000))
    }

    // MARK: Shutdown

    private func shutDownTransfers() {
        for transfer in self.active {
            if let easy = transfer.easy {
                curl_multi_remove_handle(self.multi, easy.curl)
            }
            transfer.activeIndex = -1
            transfer.fail(.shutdown)
            transfer.releaseResources()
        }
        self.active.removeAll()
        self.headsArrived.removeAll()
        Self.failUnstarted(self.batch)
        self.batch.removeAll()
        let (rest, waiter) = self.inbox.withLockedValue { inbox -> ([Command], UnsafeContinuation<Void, Never>?) in
            inbox.lifecycle = .stopped
            let rest = inbox.commands
            inbox.commands = []
            let waiter = inbox.exitWaiter
            inbox.exitWaiter = nil
            return (rest, waiter)
        }
        Self.failUnstarted(rest)
        // No new wakeup can start now; wait out those already past the lock (a few
        // instructions away from returning), then close every connection.
        while self.inbox.withLockedValue({ $0.wakersInFlight }) > 0 {
            sched_yield()
        }
        curl_multi_cleanup(self.multi)
        self.multiCleanedUp = true
        self.logger.debug("upstream loop stopped")
        waiter?.resume()
    }

    /// Fails transfers whose add command never ran.
    private static func failUnstarted(_ commands: [Command]) {
        for case .add(let transfer) in commands {
            transfer.fail(.shutdown)
            transfer.releaseResources()
        }
    }
}
