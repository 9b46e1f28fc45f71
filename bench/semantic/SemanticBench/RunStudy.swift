import Foundation
import TollgateEmbedding

func log(_ message: String) { FileHandle.standardError.write((message + "\n").data(using: .utf8)!) }

func runStudy(options: [String: String], modelDirectory: String) async throws {
    let sampleCount = Int(options["samples"] ?? "10")!
    let fitCount = Int(options["fit"] ?? "5")!
    let sampleSize = 2000
    var pairs = try JSONDecoder().decode([Pair].self, from: Data(contentsOf: URL(fileURLWithPath: options["data"]!)))
    var generator = SplitMix64(state: UInt64(options["seed"] ?? "18")!)
    pairs.shuffle(using: &generator)
    let embedder = try LocalEmbedder(modelDirectory: modelDirectory, threads: 2)

    var samples: [[Trial]] = []
    for s in 0..<sampleCount {
        let sample = Array(pairs[s * sampleSize..<(s + 1) * sampleSize])
        let stored = try await embedAll(sample.map(\.text_a), embedder: embedder)
        let asked = try await embedAll(sample.map(\.text_b), embedder: embedder)
        samples.append(trials(pairs: sample, stored: stored, asked: asked, dimensions: embedder.dimensions))
        log("sample \(s + 1)/\(sampleCount) done")
    }
    if let dump = options["dump"] {
        // Every trial's features, for exploring the model outside Swift.
        var csv = "sample,correct,duplicate," + SemanticGuard.Feature.allCases.map(\.rawValue).joined(separator: ",") + ",query,entry\n"
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"").replacingOccurrences(of: "\n", with: " ") + "\"" }
        for (s, sample) in samples.enumerated() {
            for trial in sample {
                csv += "\(s),\(trial.correct ? 1 : 0),\(trial.duplicate ? 1 : 0)," + trial.features.map { String($0) }.joined(separator: ",")
                    + "," + quoted(trial.query) + "," + quoted(trial.entry) + "\n"
            }
        }
        try csv.write(toFile: dump, atomically: true, encoding: .utf8)
    }
    // A question identical to a stored one is answered by the exact cache (same partition,
    // same question: same key) before the semantic stage runs; the guard never sees it.
    let training = samples[..<fitCount].flatMap { $0 }.filter { !$0.identical }
    let lambda = Double(options["lambda"] ?? "1")!
    let fit = LogisticFit(rows: training.map(\.features), labels: training.map(\.correct), lambda: lambda)
    let minimumSimilarity = Double(options["min-similarity"] ?? "0.8")!
    let guardModel = SemanticGuard(intercept: fit.intercept, weights: fit.weights, threshold: 0.5, minimumSimilarity: Float(minimumSimilarity))
    func probability(_ trial: Trial) -> Double { trial.similarity < minimumSimilarity ? 0 : guardModel.probability(trial.features) }

    // Thresholds chosen on the training samples only: the probability at which the guard
    // reaches a recall a margin above each target's.
    let trainingOutcomes = samples[..<fitCount].flatMap { $0 }
    func threshold(forRecall recall: Double) -> Double {
        stride(from: 0.995, through: 0.05, by: -0.0025).first { t in
            Outcome(trainingOutcomes) { $0.identical || probability($0) >= t }.recall >= recall
        } ?? 0.05
    }
    let strict = threshold(forRecall: Double(options["strict-recall"] ?? "0.12")!)
    let balanced = threshold(forRecall: Double(options["balanced-recall"] ?? "0.28")!)

    let tests = Array(samples[fitCount...])
    /// Per test sample; `exact`: identical questions served too (the whole cache), else the
    /// semantic stage alone (identical questions neither hits nor counted as its misses).
    func row(_ serve: @escaping (Trial) -> Bool) -> [String: Any] {
        func outcomes(_ exact: Bool) -> [Outcome] {
            tests.map { sample in Outcome(sample) { exact ? ($0.identical || serve($0)) : (!$0.identical && serve($0)) } }
        }
        let semantic = outcomes(false)
        let whole = outcomes(true)
        return [
            "precision": semantic.map(\.precision), "recall": semantic.map(\.recall),
            "non_duplicate_hit_rate": semantic.map(\.nonDuplicateHitRate), "hits": semantic.map(\.hits),
            "with_exact_hits": [
                "precision": whole.map(\.precision), "recall": whole.map(\.recall),
                "non_duplicate_hit_rate": whole.map(\.nonDuplicateHitRate),
            ],
        ]
    }
    let pooled = tests.flatMap { $0 }
    func point(_ kind: String, _ threshold: Double, _ serve: (Trial) -> Bool) -> [String: Any] {
        let o = Outcome(pooled) { !$0.identical && serve($0) }
        let whole = Outcome(pooled) { $0.identical || serve($0) }
        return [
            "kind": kind, "threshold": threshold, "precision": o.precision, "recall": o.recall,
            "non_duplicate_hit_rate": o.nonDuplicateHitRate, "precision_with_exact_hits": whole.precision,
        ]
    }
    var curves: [[String: Any]] = []
    for cosine in stride(from: 0.80, through: 0.995, by: 0.005) { curves.append(point("cosine", cosine) { $0.similarity >= cosine }) }
    for t in stride(from: 0.30, through: 0.99, by: 0.02) { curves.append(point("guard", t) { probability($0) >= t }) }
    let report: [String: Any] = [
        "samples": sampleCount, "fit_samples": fitCount, "sample_size": sampleSize, "lambda": lambda,
        "identical_questions_in_tests": pooled.count { $0.identical },
        "features": SemanticGuard.Feature.allCases.map(\.rawValue),
        "intercept": fit.intercept, "weights": fit.weights, "min_similarity": minimumSimilarity,
        "strict_threshold": strict, "balanced_threshold": balanced,
        "strict": row { probability($0) >= strict }, "balanced": row { probability($0) >= balanced },
        "curves": curves,
    ]
    let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}
