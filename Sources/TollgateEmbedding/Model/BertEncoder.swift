import COpenBLAS

/// The BERT forward pass over a batch of token sequences, then pooling and L2 normalisation.
///
/// Sequences are packed: the rows of every projection are only the real tokens of the batch
/// (no padding rows), and attention runs per sequence over that sequence's own tokens. This
/// computes exactly what padded batching with an attention mask computes (masked positions get
/// zero weight either way) without spending work on padding. Every projection is
/// `cblas_sgemm` over all tokens of the batch.
struct BertEncoder: Sendable {
    let weights: BertWeights
    let pooling: EmbeddingPooling

    var config: BertConfiguration { weights.config }

    /// Embeds `sequences` (token ids with `[CLS]`/`[SEP]`, each no longer than the position
    /// table) into `output`, `sequences.count` rows of `hiddenSize` floats, using `workspace`.
    /// With `tokenStates`, also writes every token's final hidden state, L2-normalised, packed
    /// in sequence order (one `hiddenSize` row per token): the semantic cache's false-hit guard
    /// aligns tokens of two questions with them.
    func encode(
        _ sequences: [[Int32]], into output: UnsafeMutablePointer<Float>, tokenStates: UnsafeMutablePointer<Float>? = nil,
        workspace: EncoderWorkspace
    ) {
        let h = config.hiddenSize
        let heads = config.numAttentionHeads
        let dh = config.headSize
        let inter = config.intermediateSize
        let eps = config.layerNormEps
        var offsets = [Int]()
        offsets.reserveCapacity(sequences.count + 1)
        var tokens = 0
        var longest = 0
        for sequence in sequences {
            precondition(!sequence.isEmpty && sequence.count <= config.maxPositionEmbeddings)
            offsets.append(tokens)
            tokens += sequence.count
            longest = max(longest, sequence.count)
        }
        guard tokens > 0 else { return }
        workspace.reserve(tokens: tokens, longestSequence: longest, config: config)
        let hidden = workspace.hidden
        let qkv = workspace.qkv
        let context = workspace.context
        let intermediate = workspace.intermediate
        let projection = workspace.projection
        let scores = workspace.scores

        // Embeddings: word + position + token type 0, then LayerNorm.
        for (s, sequence) in sequences.enumerated() {
            for (position, id) in sequence.enumerated() {
                let row = hidden + (offsets[s] + position) * h
                let word = weights.wordEmbeddings + Int(id) * h
                let positionRow = weights.positionEmbeddings + position * h
                for j in 0..<h { row[j] = word[j] + positionRow[j] + weights.tokenTypeEmbeddings[j] }
            }
        }
        Kernels.layerNorm(
            hidden, rows: tokens, columns: h, bias: nil,
            gamma: weights.embeddingNormGamma, beta: weights.embeddingNormBeta, epsilon: eps
        )

        let scale = 1 / Float(dh).squareRoot()
        for layer in weights.layers {
            // Q, K, V for all tokens in one product: [T, H] x [H, 3H] -> [T, 3H].
            linear(hidden, rows: tokens, inputs: h, weight: layer.qkvWeight, outputs: 3 * h, into: qkv)
            Kernels.addBias(qkv, rows: tokens, columns: 3 * h, bias: layer.qkvBias)

            // Attention per sequence and head, reading Q/K/V in place with a row stride of 3H.
            for (s, sequence) in sequences.enumerated() {
                let n = sequence.count
                let base = qkv + offsets[s] * 3 * h
                for head in 0..<heads {
                    let q = base + head * dh
                    let k = base + h + head * dh
                    let v = base + 2 * h + head * dh
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(dh),
                        scale, q, Int32(3 * h), k, Int32(3 * h), 0, scores, Int32(n)
                    )
                    Kernels.softmax(scores, rows: n, columns: n, stride: n)
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(dh), Int32(n),
                        1, scores, Int32(n), v, Int32(3 * h), 0, context + offsets[s] * h + head * dh, Int32(h)
                    )
                }
            }

            // hidden = LayerNorm(hidden + context Wo + bo)
            linear(context, rows: tokens, inputs: h, weight: layer.attentionOutputWeight, outputs: h, into: projection)
            Kernels.layerNorm(
                hidden, rows: tokens, columns: h, adding: projection, bias: layer.attentionOutputBias,
                gamma: layer.attentionNormGamma, beta: layer.attentionNormBeta, epsilon: eps
            )

            // hidden = LayerNorm(hidden + GELU(hidden W1 + b1) W2 + b2)
            linear(hidden, rows: tokens, inputs: h, weight: layer.intermediateWeight, outputs: inter, into: intermediate)
            Kernels.addBiasGELU(intermediate, rows: tokens, columns: inter, bias: layer.intermediateBias)
            linear(intermediate, rows: tokens, inputs: inter, weight: layer.outputWeight, outputs: h, into: projection)
            Kernels.layerNorm(
                hidden, rows: tokens, columns: h, adding: projection, bias: layer.outputBias,
                gamma: layer.outputNormGamma, beta: layer.outputNormBeta, epsilon: eps
            )
        }

        if let tokenStates {
            tokenStates.update(from: hidden, count: tokens * h)
            for t in 0..<tokens { Kernels.normalize(tokenStates + t * h, count: h) }
        }

        // Pooling and normalisation.
        for (s, sequence) in sequences.enumerated() {
            let out = output + s * h
            let first = hidden + offsets[s] * h
            switch pooling {
            case .cls:
                out.update(from: first, count: h)
            case .mean:
                out.update(from: first, count: h)
                for t in 1..<sequence.count {
                    let row = first + t * h
                    for j in 0..<h { out[j] += row[j] }
                }
                let inverse = 1 / Float(sequence.count)
                for j in 0..<h { out[j] *= inverse }
            }
            Kernels.normalize(out, count: h)
        }
    }

    /// `output[rows, outputs] = input[rows, inputs] x weight[inputs, outputs]`, row-major: a
    /// `Linear` layer without its bias, as `cblas_sgemm` `NoTrans x NoTrans`.
    ///
    /// Up to ``blockedMaxRows`` rows, the product is accumulated over blocks of weight rows of at
    /// most ``blockFloats`` (contiguous in the `[in, out]` layout): each block is read from memory
    /// once and multiplied while in cache, and the small output stays in cache between blocks.
    /// One call would instead have OpenBLAS copy the whole weight matrix into its packed format
    /// for a handful of rows (`embedding-bench --projections`: 1.6-2.5x faster for 4-16 rows,
    /// 1.1-1.3x for 24-64).
    @inline(__always)
    private func linear(
        _ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, outputs: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        let depth = rows <= Self.blockedMaxRows ? max(16, Self.blockFloats / outputs / 16 * 16) : inputs
        var start = 0
        while start < inputs {
            let count = min(depth, inputs - start)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(count),
                1, input + start, Int32(inputs), weight + start * outputs, Int32(outputs),
                start == 0 ? 0 : 1, output, Int32(outputs)
            )
            start += count
        }
    }

    /// Row counts up to which `linear` accumulates over weight blocks.
    static let blockedMaxRows = 64
    /// Weights per block: 64 Ki floats, 256 KiB, well inside a core's L2.
    static let blockFloats = 65_536
}
