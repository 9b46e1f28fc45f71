import Foundation

/// L2-regularised logistic regression fitted by Newton's method (IRLS) on standardised
/// features; returns the coefficients on the original scale.
struct LogisticFit {
    var intercept: Double
    var weights: [Double]

    init(rows: [[Double]], labels: [Bool], lambda: Double = 1.0, iterations: Int = 30) {
        let d = rows[0].count
        let n = Double(rows.count)
        var mean = [Double](repeating: 0, count: d)
        var scale = [Double](repeating: 0, count: d)
        for row in rows { for j in 0..<d { mean[j] += row[j] / n } }
        for row in rows { for j in 0..<d { scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / n } }
        scale = scale.map { max($0.squareRoot(), 1e-9) }
        let x = rows.map { row in [1.0] + (0..<d).map { (row[$0] - mean[$0]) / scale[$0] } }
        var beta = [Double](repeating: 0, count: d + 1)
        for _ in 0..<iterations {
            var gradient = [Double](repeating: 0, count: d + 1)
            var hessian = [[Double]](repeating: [Double](repeating: 0, count: d + 1), count: d + 1)
            for (row, label) in zip(x, labels) {
                var z = 0.0
                for j in 0...d { z += beta[j] * row[j] }
                let p = 1 / (1 + exp(-z))
                let w = max(p * (1 - p), 1e-9)
                for j in 0...d {
                    gradient[j] += (p - (label ? 1 : 0)) * row[j]
                    for k in 0...d { hessian[j][k] += w * row[j] * row[k] }
                }
            }
            for j in 1...d {
                gradient[j] += lambda * beta[j]
                hessian[j][j] += lambda
            }
            let step = Self.solve(hessian, gradient)
            for j in 0...d { beta[j] -= step[j] }
        }
        weights = (0..<d).map { beta[$0 + 1] / scale[$0] }
        intercept = beta[0] - (0..<d).reduce(0) { $0 + beta[$1 + 1] * mean[$1] / scale[$1] }
    }

    /// Gaussian elimination with partial pivoting.
    static func solve(_ matrix: [[Double]], _ vector: [Double]) -> [Double] {
        var a = matrix
        var b = vector
        let n = b.count
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in column + 1..<n {
                let factor = a[row][column] / a[column][column]
                for k in column..<n { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[row]
            for k in row + 1..<n { sum -= a[row][k] * x[k] }
            x[row] = sum / a[row][row]
        }
        return x
    }
}
