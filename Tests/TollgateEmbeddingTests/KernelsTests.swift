import Foundation
import Testing
@testable import TollgateEmbedding

@Suite struct KernelsTests {
    @Test func erfIsWithinHalfAMillionthOfLibm() {
        var worst: Float = 0
        for step in -60_000...60_000 {
            let x = Float(step) * 1e-4
            worst = max(worst, abs(Kernels.erf(x) - Foundation.erf(x)))
        }
        #expect(worst < 5e-7)
    }

    @Test func expHasSmallRelativeError() {
        var worst: Double = 0
        for step in -86_990...0 {  // above the -87 cut-off
            let x = Float(step) * 1e-3
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(Kernels.exp(x)) - exact) / exact)
        }
        #expect(worst < 2e-7)
        #expect(Kernels.exp(0) == 1)
        #expect(Kernels.exp(-.infinity) == 0)
        #expect(Kernels.exp(-100) == 0)
    }

    @Test func softmaxAndLayerNormMatchScalarFormulas() {
        let columns = 37  // two SIMD blocks and a tail
        var values = (0..<2 * columns).map { Float(sin(Double($0)) * 3) }
        let expected = (0..<2).flatMap { r -> [Float] in
            let row = values[r * columns..<(r + 1) * columns]
            let m = row.max()!
            let sum = row.reduce(0) { $0 + Foundation.exp($1 - m) }
            return row.map { Foundation.exp($0 - m) / sum }
        }
        values.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, rows: 2, columns: columns, stride: columns) }
        for (a, b) in zip(values, expected) { #expect(abs(a - b) < 1e-6) }

        var x = (0..<columns).map { Float($0) * 0.5 - 4 }
        let bias = (0..<columns).map { Float($0 % 3) }
        let gamma = (0..<columns).map { 1 + Float($0) / 100 }
        let beta = (0..<columns).map { Float($0) / -50 }
        let residual = (0..<columns).map { Float($0 % 5) * 0.25 }
        let shifted = (0..<columns).map { Double(x[$0] + residual[$0] + bias[$0]) }
        let mean = shifted.reduce(0, +) / Double(columns)
        let variance = shifted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(columns)
        let normalized = (0..<columns).map { ((shifted[$0] - mean) / (variance + 1e-12).squareRoot()) * Double(gamma[$0]) + Double(beta[$0]) }
        x.withUnsafeMutableBufferPointer { Kernels.layerNorm($0.baseAddress!, rows: 1, columns: columns, adding: residual, bias: bias, gamma: gamma, beta: beta, epsilon: 1e-12) }
        for (a, b) in zip(x, normalized) { #expect(abs(Double(a) - b) < 1e-5) }
    }
}
