import COpenBLAS
import Foundation
import TollgateEmbedding

/// Semantic lookup cost (issue 18): at 1k, 10k and 100k entries of 384 dims, the time of one
/// lookup (scores by `cblas_sgemv` + the neighbour scan) and of a batched lookup of 32 queries
/// (`cblas_sgemm` + 32 scans), against the physical limit: streaming the matrix through memory
/// once (`cblas_sasum` over a copy of the same size). Then the guard's cost per lookup on real
/// token vectors. One BLAS thread, as the gateway runs it. Prints JSON on stdout.
func runLookup(options: [String: String], modelDirectory: String) async throws {
    openblas_set_num_threads(1)
    let dimensions = 384
    let batch = 32
    var generator = SplitMix64(state: 18)
    var results: [[String: Any]] = []
    for entries in [1_000, 10_000, 100_000] {
        let index = VectorIndex(dimensions: dimensions, capacity: entries)
        for _ in 0..<entries { index.append(randomUnitVector(dimensions, using: &generator)) }
        let queries = (0..<batch).flatMap { _ in randomUnitVector(dimensions, using: &generator) }
        var scores = [Float](repeating: 0, count: entries * batch)
        var scratch = [Float](repeating: 0, count: entries * batch)
        let copy = [Float](repeating: 0.001, count: entries * dimensions)
        let rounds = max(20, 2_000_000 / entries)

        let stream = medianSeconds(rounds: rounds) { _ = cblas_sasum(Int32(copy.count), copy, 1) }
        var sink = 0
        let single = medianSeconds(rounds: rounds) {
            queries.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { s in
                    index.scores(of: q.baseAddress!, into: s.baseAddress!)
                    sink &+= Neighbours(scores: UnsafeBufferPointer(rebasing: s[0..<entries])).closeCount
                }
            }
        }
        let batched = medianSeconds(rounds: max(5, rounds / batch)) {
            queries.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { s in
                    index.scores(ofBatch: q.baseAddress!, queryCount: batch, into: s.baseAddress!, scratch: &scratch)
                    for b in 0..<batch {
                        sink &+= Neighbours(scores: UnsafeBufferPointer(rebasing: s[b * entries..<(b + 1) * entries])).closeCount
                    }
                }
            }
        }
        let perBatchedLookup = batched / Double(batch)
        log("OpenBLAS \(OpenBLASRuntime.coreName), entries \(entries): stream \(micro(stream)) µs, single \(micro(single)) µs, batched \(micro(perBatchedLookup)) µs/query (\(sink))")
        results.append([
            "entries": entries, "dimensions": dimensions, "matrix_bytes": entries * dimensions * 4,
            "stream_matrix_us": micro(stream), "single_lookup_us": micro(single),
            "batched_lookup_us_per_query": micro(perBatchedLookup), "batch": batch,
            "single_vs_stream": single / stream,
            "batched_rate_vs_single_rate": single / perBatchedLookup,
        ])
    }

    // The guard on real questions: features (token alignment, word checks) and the logistic model.
    let embedder = try LocalEmbedder(modelDirectory: modelDirectory, threads: 1)
    let texts = [
        "How can I improve my English speaking skills quickly at home?",
        "What is the fastest way to get better at speaking English by myself?",
    ]
    let embedded = try await embedder.embed(texts, keepingTokenVectors: true)
    let query = QuestionProfile(text: texts[0], tokenVectors: embedded.tokenVectors![0])
    let entry = QuestionProfile(text: texts[1], tokenVectors: embedded.tokenVectors![1])
    let guardModel = SemanticGuard.strict
    let neighbours = [Float](repeating: 0.5, count: 100).withUnsafeBufferPointer { Neighbours(scores: $0) }
    var total = 0.0
    let guardTime = medianSeconds(rounds: 5_000) {
        let features = SemanticGuard.features(
            neighbours: neighbours, entryNeighbour: 0.6, query: query, entry: entry, dimensions: embedder.dimensions
        )
        total += guardModel.probability(features)
    }
    log("guard \(micro(guardTime)) µs per lookup (\(total > 0))")
    let report: [String: Any] = [
        "openblas_core": OpenBLASRuntime.coreName, "openblas_upgraded_from": OpenBLASRuntime.upgrade?.from ?? "",
        "lookup": results,
        "guard_us_per_lookup": micro(guardTime),
        "guard_tokens": [query.tokenVectors.count / embedder.dimensions, entry.tokenVectors.count / embedder.dimensions],
    ]
    let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

private func randomUnitVector(_ dimensions: Int, using generator: inout SplitMix64) -> [Float] {
    var vector = (0..<dimensions).map { _ in Float.random(in: -1...1, using: &generator) }
    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for i in vector.indices { vector[i] /= norm }
    return vector
}

/// The median of `rounds` timings of `body`, in seconds.
private func medianSeconds(rounds: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    times.reserveCapacity(rounds)
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[rounds / 2]
}

private func micro(_ seconds: Double) -> Double { (seconds * 1e7).rounded() / 10 }
