/// Scratch buffers of one forward pass, reused across calls and grown on demand.
///
/// Not thread-safe: each worker thread owns one (see ``EmbeddingWorkerPool``).
final class EncoderWorkspace {
    private(set) var hidden: UnsafeMutablePointer<Float>  // [T, H]
    private(set) var qkv: UnsafeMutablePointer<Float>  // [T, 3H]
    private(set) var context: UnsafeMutablePointer<Float>  // [T, H]
    private(set) var intermediate: UnsafeMutablePointer<Float>  // [T, I]
    private(set) var projection: UnsafeMutablePointer<Float>  // [T, H]
    private(set) var scores: UnsafeMutablePointer<Float>  // [L, L]
    private var tokenCapacity = 0
    private var sequenceCapacity = 0
    private var rowFloats = 0

    init() {
        hidden = Self.allocate(0)
        qkv = Self.allocate(0)
        context = Self.allocate(0)
        intermediate = Self.allocate(0)
        projection = Self.allocate(0)
        scores = Self.allocate(0)
    }

    deinit {
        for buffer in [hidden, qkv, context, intermediate, projection, scores] { buffer.deallocate() }
    }

    /// Bytes currently allocated.
    var allocatedBytes: Int {
        (tokenCapacity * rowFloats + sequenceCapacity * sequenceCapacity) * MemoryLayout<Float>.stride
    }

    /// Makes every buffer large enough for `tokens` packed tokens and a longest sequence of
    /// `longestSequence`.
    func reserve(tokens: Int, longestSequence: Int, config: BertConfiguration) {
        let h = config.hiddenSize
        let perToken = 6 * h + config.intermediateSize
        if tokens > tokenCapacity || perToken != rowFloats {
            let capacity = max(tokens, tokenCapacity)
            for buffer in [hidden, qkv, context, intermediate, projection] { buffer.deallocate() }
            hidden = Self.allocate(capacity * h)
            qkv = Self.allocate(capacity * 3 * h)
            context = Self.allocate(capacity * h)
            intermediate = Self.allocate(capacity * config.intermediateSize)
            projection = Self.allocate(capacity * h)
            tokenCapacity = capacity
            rowFloats = perToken
        }
        if longestSequence > sequenceCapacity {
            scores.deallocate()
            scores = Self.allocate(longestSequence * longestSequence)
            sequenceCapacity = longestSequence
        }
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
    }
}
