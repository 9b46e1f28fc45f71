import COpenBLAS
import Foundation

/// `embedding-bench --projections`: the encoder's projection shapes (6 layers of MiniLM, 42 MB
/// of weights, so that they come from memory as in a forward pass) as one `cblas_sgemm` each
/// versus accumulated over 256 KiB blocks of weight rows, the way `BertEncoder` runs up to 64
/// rows. Prints milliseconds of CPU time per forward pass (best of 5) for each row count.
func projectionBench() {
    openblas_set_num_threads(1)
    let shapes: [(inputs: Int, outputs: Int)] = [(384, 1152), (384, 384), (384, 1536), (1536, 384)]
    // 64-byte aligned, as the encoder allocates its weights.
    let weights = (0..<6).flatMap { _ in
        shapes.map { shape in
            let count = shape.inputs * shape.outputs
            let matrix = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
            for i in 0..<count { matrix[i] = Float(i % 7) * 0.01 }
            return UnsafeBufferPointer(start: matrix, count: count)
        }
    }
    let input = UnsafeMutableRawPointer.allocate(byteCount: 256 * 1536 * 4, alignment: 64)
        .bindMemory(to: Float.self, capacity: 256 * 1536)
    let output = UnsafeMutableRawPointer.allocate(byteCount: 256 * 1536 * 4, alignment: 64)
        .bindMemory(to: Float.self, capacity: 256 * 1536)
    defer {
        input.deallocate()
        output.deallocate()
        for matrix in weights { matrix.deallocate() }
    }
    for i in 0..<256 * 1536 { input[i] = Float(i % 5) * 0.1 }

    func forward(rows: Int, blocked: Bool) {
        for (index, weight) in weights.enumerated() {
            let (inputs, outputs) = shapes[index % shapes.count]
            let depth = blocked ? max(16, 65_536 / outputs / 16 * 16) : inputs
            do {
                let matrix = weight
                var start = 0
                while start < inputs {
                    let count = min(depth, inputs - start)
                    let beta: Float = start == 0 ? 0 : 1
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(count), 1,
                        input + start, Int32(inputs), matrix.baseAddress! + start * outputs, Int32(outputs),
                        beta, output, Int32(outputs)
                    )
                    start += count
                }
            }
        }
    }

    print("rows  one sgemm (ms)  blocked (ms)  speed-up")
    for rows in [4, 8, 13, 16, 24, 32, 48, 64, 96, 128, 192, 256] {
        var best = [Double.infinity, .infinity]
        for _ in 0..<5 {
            for (variant, blocked) in [false, true].enumerated() {
                let start = cpuSeconds()
                for _ in 0..<8 { forward(rows: rows, blocked: blocked) }
                best[variant] = min(best[variant], (cpuSeconds() - start) / 8 * 1000)
            }
        }
        print(String(format: "%4d  %14.2f  %12.2f  %7.2fx", rows, best[0], best[1], best[0] / best[1]))
    }
}
