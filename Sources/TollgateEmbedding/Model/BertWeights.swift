/// The weights of a BERT encoder, loaded once and shared read-only by every worker.
///
/// Embedding tables and vectors (biases, LayerNorm) are used in place in the memory-mapped
/// safetensors file when they are F32; F16/BF16 (or misaligned) tensors are widened into owned
/// buffers. Projection matrices are stored transposed, `[in, out]` row-major, in owned buffers:
/// the `NoTrans x NoTrans` layout lets OpenBLAS take its direct (copy-free) `sgemm` path for the
/// few-token case, and the query, key and value projections of a layer are concatenated into
/// one `[H, 3H]` matrix so that one `sgemm` does all three.
final class BertWeights: @unchecked Sendable {
    // @unchecked Sendable: every pointer is written only during init and read-only afterwards;
    // the mapping they point into is kept alive by `file`, owned buffers are freed in deinit.

    /// Weights of one encoder layer; matrices are transposed PyTorch `Linear` weights,
    /// `[in, out]` row-major.
    struct Layer {
        var qkvWeight: UnsafePointer<Float>  // [H, 3H]: query, key, value columns
        var qkvBias: UnsafePointer<Float>  // [3H]
        var attentionOutputWeight: UnsafePointer<Float>  // [H, H]
        var attentionOutputBias: UnsafePointer<Float>
        var attentionNormGamma: UnsafePointer<Float>
        var attentionNormBeta: UnsafePointer<Float>
        var intermediateWeight: UnsafePointer<Float>  // [H, I]
        var intermediateBias: UnsafePointer<Float>
        var outputWeight: UnsafePointer<Float>  // [I, H]
        var outputBias: UnsafePointer<Float>
        var outputNormGamma: UnsafePointer<Float>
        var outputNormBeta: UnsafePointer<Float>
    }

    let config: BertConfiguration
    let wordEmbeddings: UnsafePointer<Float>  // [V, H]
    let positionEmbeddings: UnsafePointer<Float>  // [P, H]
    let tokenTypeEmbeddings: UnsafePointer<Float>  // [T, H]; type 0 is used
    let embeddingNormGamma: UnsafePointer<Float>
    let embeddingNormBeta: UnsafePointer<Float>
    let layers: [Layer]
    /// Bytes in owned buffers (the rest is in the mapping).
    let ownedBytes: Int

    private let file: SafeTensorsFile
    private let owned: [UnsafeMutablePointer<Float>]

    init(file: SafeTensorsFile, config: BertConfiguration) throws {
        var loader = Loader(file: file)
        let h = config.hiddenSize
        let i = config.intermediateSize
        wordEmbeddings = try loader.load("embeddings.word_embeddings.weight", [config.vocabSize, h])
        positionEmbeddings = try loader.load("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, h])
        tokenTypeEmbeddings = try loader.load("embeddings.token_type_embeddings.weight", [config.typeVocabSize, h])
        embeddingNormGamma = try loader.load("embeddings.LayerNorm.weight", [h])
        embeddingNormBeta = try loader.load("embeddings.LayerNorm.bias", [h])

        var layers: [Layer] = []
        for index in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(index)."
            let qkvWeight = loader.allocate(3 * h * h)
            let qkvBias = loader.allocate(3 * h)
            for (part, name) in ["query", "key", "value"].enumerated() {
                try loader.transpose(p + "attention.self.\(name).weight", [h, h], into: qkvWeight + part * h, stride: 3 * h)
                let bias = try loader.load(p + "attention.self.\(name).bias", [h])
                (qkvBias + part * h).update(from: bias, count: h)
            }
            layers.append(
                Layer(
                    qkvWeight: UnsafePointer(qkvWeight),
                    qkvBias: UnsafePointer(qkvBias),
                    attentionOutputWeight: try loader.loadTransposed(p + "attention.output.dense.weight", [h, h]),
                    attentionOutputBias: try loader.load(p + "attention.output.dense.bias", [h]),
                    attentionNormGamma: try loader.load(p + "attention.output.LayerNorm.weight", [h]),
                    attentionNormBeta: try loader.load(p + "attention.output.LayerNorm.bias", [h]),
                    intermediateWeight: try loader.loadTransposed(p + "intermediate.dense.weight", [i, h]),
                    intermediateBias: try loader.load(p + "intermediate.dense.bias", [i]),
                    outputWeight: try loader.loadTransposed(p + "output.dense.weight", [h, i]),
                    outputBias: try loader.load(p + "output.dense.bias", [h]),
                    outputNormGamma: try loader.load(p + "output.LayerNorm.weight", [h]),
                    outputNormBeta: try loader.load(p + "output.LayerNorm.bias", [h])
                )
            )
        }
        self.layers = layers
        self.config = config
        self.file = file
        self.owned = loader.owned
        self.ownedBytes = loader.ownedBytes
        // Load failures above leak nothing: `loader` frees its buffers unless handed over.
        loader.owned = []
        // The projections were copied; what is still read in place (embedding rows, vectors)
        // faults back in on use.
        file.releaseResidentPages()
    }

    deinit {
        for buffer in owned { buffer.deallocate() }
    }

    /// Writes the transpose of a row-major `rows x columns` matrix as `columns` rows of
    /// `rows` values, `stride` apart.
    static func transpose(
        _ source: UnsafePointer<Float>, rows: Int, columns: Int, into destination: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let tile = 32
        for r0 in Swift.stride(from: 0, to: rows, by: tile) {
            for c0 in Swift.stride(from: 0, to: columns, by: tile) {
                for r in r0..<min(r0 + tile, rows) {
                    for c in c0..<min(c0 + tile, columns) {
                        destination[c * stride + r] = source[r * columns + c]
                    }
                }
            }
        }
    }

    /// Resolves names (with or without a `bert.` prefix), checks shapes and owns conversions.
    private struct Loader: ~Copyable {
        let file: SafeTensorsFile
        let prefix: String
        var owned: [UnsafeMutablePointer<Float>] = []
        var ownedBytes = 0

        init(file: SafeTensorsFile) {
            self.file = file
            self.prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        }

        deinit {
            for buffer in owned { buffer.deallocate() }
        }

        mutating func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
            let buffer = UnsafeMutableRawPointer.allocate(
                byteCount: count * MemoryLayout<Float>.stride, alignment: 64
            ).bindMemory(to: Float.self, capacity: count)
            owned.append(buffer)
            ownedBytes += count * MemoryLayout<Float>.stride
            return buffer
        }

        func resolve(_ name: String, _ shape: [Int]) throws -> SafeTensorsFile.Tensor {
            guard let tensor = file.tensors[prefix + name] else {
                throw EmbeddingError.invalidModel(file.path, "missing tensor '\(prefix + name)'")
            }
            guard tensor.shape == shape else {
                throw EmbeddingError.invalidModel(
                    file.path, "tensor '\(tensor.name)' has shape \(tensor.shape), config.json implies \(shape)"
                )
            }
            return tensor
        }

        /// A tensor as F32: in place in the mapping when possible, else widened into an owned buffer.
        mutating func load(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            let tensor = try resolve(name, shape)
            if let inPlace = file.float32Pointer(tensor) { return inPlace }
            let buffer = allocate(tensor.elementCount)
            try file.copyFloats(tensor, to: buffer)
            return UnsafePointer(buffer)
        }

        /// A `[out, in]` matrix as an owned `[in, out]` one.
        mutating func loadTransposed(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            let buffer = allocate(shape[0] * shape[1])
            try transpose(name, shape, into: buffer, stride: shape[0])
            return UnsafePointer(buffer)
        }

        /// Writes the transpose of a `[out, in]` matrix into `destination`, rows `stride` apart.
        func transpose(_ name: String, _ shape: [Int], into destination: UnsafeMutablePointer<Float>, stride: Int) throws {
            let tensor = try resolve(name, shape)
            if let inPlace = file.float32Pointer(tensor) {
                BertWeights.transpose(inPlace, rows: shape[0], columns: shape[1], into: destination, stride: stride)
            } else {
                let widened = UnsafeMutablePointer<Float>.allocate(capacity: tensor.elementCount)
                defer { widened.deallocate() }
                try file.copyFloats(tensor, to: widened)
                BertWeights.transpose(widened, rows: shape[0], columns: shape[1], into: destination, stride: stride)
            }
        }
    }
}
