import Foundation
import Synchronization

/// A small fixed set of threads that run the model, off Swift's cooperative pool.
///
/// A forward pass is milliseconds of blocking CPU work in OpenBLAS; running it on the
/// cooperative pool would stall unrelated tasks. Callers enqueue a ``Job`` and suspend; a
/// worker takes it (with any other jobs waiting, up to ``maxCoalescedTexts`` texts, so that
/// concurrent small requests share one batch), tokenizes, runs the encoder with its own
/// ``EncoderWorkspace`` and resumes each caller's continuation from the worker thread.
final class EmbeddingWorkerPool: @unchecked Sendable {
    // @unchecked Sendable: `queue` and `stopping` are only touched with `condition` locked;
    // `model` and the limits are immutable.

    /// One `embed` call waiting for a worker.
    final class Job: Sendable {
        let texts: [String]
        let keepTokenVectors: Bool
        let continuation: CheckedContinuation<EmbeddingBatch, any Error>
        let cancellation: CancellationFlag

        init(
            texts: [String], keepTokenVectors: Bool, cancellation: CancellationFlag,
            continuation: CheckedContinuation<EmbeddingBatch, any Error>
        ) {
            self.texts = texts
            self.keepTokenVectors = keepTokenVectors
            self.cancellation = cancellation
            self.continuation = continuation
        }
    }

    /// Set when the caller's task is cancelled; a job not yet started then fails with
    /// `CancellationError` instead of running.
    final class CancellationFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func cancel() { flag.store(true, ordering: .relaxed) }
        var isCancelled: Bool { flag.load(ordering: .relaxed) }
    }

    private let model: SentenceModel
    private let maxBatchTokens: Int
    private let maxCoalescedTexts: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queueHead = 0
    private var stopping = false

    /// Starts `threads` worker threads named `name-N`.
    init(model: SentenceModel, threads: Int, maxBatchTokens: Int, maxCoalescedTexts: Int = 64, name: String) {
        self.model = model
        self.maxBatchTokens = max(maxBatchTokens, model.maxTokens)
        self.maxCoalescedTexts = maxCoalescedTexts
        for index in 0..<max(threads, 1) {
            let thread = Thread { [self] in self.run() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Enqueues `job` for the next free worker; with `maxWaiting`, only when fewer jobs than
    /// that are waiting (returns false, and `job` is not taken, otherwise).
    @discardableResult
    func submit(_ job: Job, maxWaiting: Int? = nil) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if let maxWaiting, queue.count - queueHead >= maxWaiting { return false }
        queue.append(job)
        condition.signal()
        return true
    }

    /// Lets the workers finish what is queued and exit.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Worker

    private func run() {
        let workspace = EncoderWorkspace()
        while let jobs = nextJobs() {
            process(jobs, workspace: workspace)
        }
    }

    /// Blocks until there is work; `nil` once stopping with an empty queue.
    private func nextJobs() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while queueHead == queue.count, !stopping { condition.wait() }
        guard queueHead < queue.count else { return nil }
        var jobs = [queue[queueHead]]
        var texts = jobs[0].texts.count
        queueHead += 1
        while queueHead < queue.count, texts + queue[queueHead].texts.count <= maxCoalescedTexts {
            texts += queue[queueHead].texts.count
            jobs.append(queue[queueHead])
            queueHead += 1
        }
        // Drop taken jobs once they are half the array, so a queue that never drains stays bounded.
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead >= 64, queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        return jobs
    }

    private func process(_ jobs: [Job], workspace: EncoderWorkspace) {
        var live: [Job] = []
        for job in jobs {
            if job.cancellation.isCancelled {
                job.continuation.resume(throwing: CancellationError())
            } else {
                live.append(job)
            }
        }
        guard !live.isEmpty else { return }

        let sequences = live.flatMap { $0.texts.map(model.tokenize) }
        let keepTokens = live.contains { $0.keepTokenVectors }
        let (vectors, tokenVectors) = embed(sequences, keepingTokens: keepTokens, workspace: workspace)
        var start = 0
        for job in live {
            let range = start..<start + job.texts.count
            start = range.upperBound
            job.continuation.resume(
                returning: EmbeddingBatch(
                    vectors: Array(vectors[range]), tokenCounts: sequences[range].map(\.count),
                    tokenVectors: job.keepTokenVectors ? Array(tokenVectors[range]) : nil
                )
            )
        }
    }

    /// Runs the encoder over consecutive chunks of at most `maxBatchTokens` tokens.
    /// With `keepingTokens`, also each sequence's token vectors without `[CLS]` and `[SEP]`.
    private func embed(
        _ sequences: [[Int32]], keepingTokens: Bool, workspace: EncoderWorkspace
    ) -> (vectors: [[Float]], tokenVectors: [[Float]]) {
        let dimensions = model.dimensions
        var vectors: [[Float]] = []
        var tokenVectors: [[Float]] = []
        vectors.reserveCapacity(sequences.count)
        var chunkStart = 0
        while chunkStart < sequences.count {
            var chunkEnd = chunkStart
            var tokens = 0
            while chunkEnd < sequences.count, chunkEnd == chunkStart || tokens + sequences[chunkEnd].count <= maxBatchTokens {
                tokens += sequences[chunkEnd].count
                chunkEnd += 1
            }
            let chunk = Array(sequences[chunkStart..<chunkEnd])
            var states = [Float](repeating: 0, count: keepingTokens ? tokens * dimensions : 0)
            let flat = [Float](unsafeUninitializedCapacity: chunk.count * dimensions) { buffer, initialized in
                states.withUnsafeMutableBufferPointer { states in
                    model.encoder.encode(
                        chunk, into: buffer.baseAddress!, tokenStates: keepingTokens ? states.baseAddress : nil, workspace: workspace
                    )
                }
                initialized = chunk.count * dimensions
            }
            var row = 0
            for s in 0..<chunk.count {
                vectors.append(Array(flat[s * dimensions..<(s + 1) * dimensions]))
                if keepingTokens {
                    let inner = max(chunk[s].count - 2, 0)
                    tokenVectors.append(Array(states[(row + 1) * dimensions..<(row + 1 + inner) * dimensions]))
                }
                row += chunk[s].count
            }
            chunkStart = chunkEnd
        }
        return (vectors, tokenVectors)
    }
}
