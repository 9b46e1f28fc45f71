/// Element-wise and row-wise kernels of the encoder, written over `SIMD16<Float>` so that they
/// vectorise without fast-math. Everything is on raw row-major buffers owned by the caller.
enum Kernels {
    typealias Vector = SIMD16<Float>
    static let width = Vector.scalarCount

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    // MARK: Bias, LayerNorm

    /// `rows x columns` matrix with leading dimension `columns`: adds `bias` to every row.
    static func addBias(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = data + r * columns
            var j = 0
            while j + width <= columns {
                store(load(row + j) + load(bias + j), row + j)
                j += width
            }
            while j < columns {
                row[j] += bias[j]
                j += 1
            }
        }
    }

    /// In place, per row: `x = LayerNorm(x + addend + bias) * gamma + beta` (biased variance,
    /// as PyTorch); `addend` is a matrix of the same shape, `bias` a row: the residual connection
    /// and the projection's bias.
    static func layerNorm(
        _ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        adding addend: UnsafePointer<Float>? = nil, bias: UnsafePointer<Float>?,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float
    ) {
        let n = Float(columns)
        for r in 0..<rows {
            let row = data + r * columns
            let other = addend.map { $0 + r * columns }
            var sum = Vector()
            var tail: Float = 0
            var j = 0
            while j + width <= columns {
                var v = load(row + j)
                if let other { v += load(other + j) }
                if let bias { v += load(bias + j) }
                store(v, row + j)
                sum += v
                j += width
            }
            while j < columns {
                if let other { row[j] += other[j] }
                if let bias { row[j] += bias[j] }
                tail += row[j]
                j += 1
            }
            let mean = (sum.sum() + tail) / n

            var squares = Vector()
            tail = 0
            j = 0
            let meanVector = Vector(repeating: mean)
            while j + width <= columns {
                let d = load(row + j) - meanVector
                squares += d * d
                j += width
            }
            while j < columns {
                let d = row[j] - mean
                tail += d * d
                j += 1
            }
            let inverse = 1 / (((squares.sum() + tail) / n) + epsilon).squareRoot()

            j = 0
            let inverseVector = Vector(repeating: inverse)
            while j + width <= columns {
                let normalized = (load(row + j) - meanVector) * inverseVector
                store(normalized * load(gamma + j) + load(beta + j), row + j)
                j += width
            }
            while j < columns {
                row[j] = (row[j] - mean) * inverse * gamma[j] + beta[j]
                j += 1
            }
        }
    }

    // MARK: GELU

    /// In place, per row: `x = GELU(x + bias)` with the exact (erf) GELU of BERT.
    ///
    /// Scalar code that the optimiser vectorises; generic `SIMD` conversions and rounding would
    /// call into the runtime per element.
    static func addBiasGELU(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = data + r * columns
            for j in 0..<columns {
                let x = row[j] + bias[j]
                row[j] = 0.5 * x * (1 + erf(x * 0.70710678118654752))
            }
        }
    }

    /// erf as a rational minimax approximation on [-4, 4] (outside, erf is ±1 in binary32):
    /// the odd/even polynomial pair used by Eigen and XLA; absolute error below 5e-7.
    @inline(__always)
    static func erf(_ input: Float) -> Float {
        let x = input < -4 ? -4 : (input > 4 ? 4 : input)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    // MARK: Softmax

    /// In place, per row of `columns` values with leading dimension `stride`: softmax.
    static func softmax(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
        for r in 0..<rows {
            let row = data + r * stride
            var maximum = -Float.infinity
            for j in 0..<columns where row[j] > maximum { maximum = row[j] }
            for j in 0..<columns { row[j] = exp(row[j] - maximum) }
            var sum: Float = 0
            for j in 0..<columns { sum += row[j] }
            let scale = 1 / sum
            for j in 0..<columns { row[j] *= scale }
        }
    }

    /// e^x for x <= 0 in the style of Cephes `expf`: x = n ln2 + r, a degree-6 polynomial in r,
    /// scaled by 2^n through the exponent bits. Relative error below 1e-7; -inf and inputs below
    /// -87 give 0.
    @inline(__always)
    static func exp(_ input: Float) -> Float {
        let x = input < -87 ? -87 : (input > 0 ? 0 : input)
        // Round to nearest with the 1.5 * 2^23 trick (no libm call, so the loop vectorises).
        let n = (x * 1.44269504088896341 + 12_582_912) - 12_582_912
        let r = x - n * 0.693359375 - n * -2.12194440e-4
        var y = r * 1.9875691500e-4 + 1.3981999507e-3
        y = y * r + 8.3334519073e-3
        y = y * r + 4.1665795894e-2
        y = y * r + 1.6666665459e-1
        y = y * r + 5.0000001201e-1
        y = y * r * r + r + 1
        // 2^n: n + 127 sits in the low mantissa bits of n + 127 + 1.5 * 2^23.
        let scale = Float(bitPattern: (n + 12_583_039).bitPattern &<< 23)
        return input < -87 ? 0 : y * scale
    }

    // MARK: Pooling

    /// Scales `count` values to unit L2 norm (a zero vector stays zero).
    static func normalize(_ data: UnsafeMutablePointer<Float>, count: Int) {
        var squares: Float = 0
        for j in 0..<count { squares += data[j] * data[j] }
        let norm = squares.squareRoot()
        guard norm > 0 else { return }
        let scale = 1 / Swift.max(norm, 1e-12)
        for j in 0..<count { data[j] *= scale }
    }
}
