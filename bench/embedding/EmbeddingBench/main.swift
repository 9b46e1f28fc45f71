// embedding-bench: latency and throughput of LocalEmbedder, one worker thread, for the
// side-by-side comparison in bench/embedding/run.sh. Prints one JSON object.
//
//   embedding-bench [--model DIR] [--sentences FILE] [--single-iterations N] [--batch-iterations N]
//   embedding-bench --projections      (the sgemm blocking measurement, see ProjectionBench.swift)
//
// FILE has one sentence per line; line 1 is the "short sentence", the first 32 lines are the batch.
import Foundation
import TollgateEmbedding

struct Options {
    var model = LocalEmbedder.defaultModelDirectory
    var sentences = "bench/embedding/sentences.txt"
    var singleIterations = 300
    var batchIterations = 20

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fatalError("\(flag) needs a value") }
            switch flag {
            case "--model": model = value
            case "--sentences": sentences = value
            case "--single-iterations": singleIterations = Int(value)!
            case "--batch-iterations": batchIterations = Int(value)!
            default: fatalError("unknown option \(flag)")
            }
        }
    }
}

/// Resident and peak resident memory of this process, in MiB, from /proc/self/status.
func memory() -> (rss: Double, peak: Double) {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    func field(_ name: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

/// CPU time of the whole process (all threads), in seconds: unlike wall time, it does not count
/// the time this process waits for a core that another process holds.
func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

if CommandLine.arguments.dropFirst().first == "--projections" {
    projectionBench()
    exit(0)
}

let options = Options(CommandLine.arguments)
let lines = try String(contentsOfFile: options.sentences, encoding: .utf8)
    .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
precondition(lines.count >= 32, "need at least 32 sentences")
let clock = ContinuousClock()
let baseline = memory()

let loadStart = clock.now
let embedder = try LocalEmbedder(modelDirectory: options.model, threads: 1)
let loadSeconds = seconds(clock.now - loadStart)
let afterLoad = memory()

let short = lines[0]
let batch = Array(lines.prefix(32))
let batchTokens = batch.map { embedder.tokenIDs($0).count }
// The longest sentence of the batch within 32 tokens: the "short sentence" bound.
let long = zip(batch, batchTokens).filter { $0.1 <= 32 }.max { $0.1 < $1.1 }!.0

// Single short sentence: end-to-end latency of one embed call (tokenize, forward, hop back).
for _ in 0..<20 { _ = try await embedder.embed([short]) }
var latencies: [Double] = []
var singleCPU: [Double] = []
for _ in 0..<options.singleIterations {
    let start = clock.now
    let cpu = cpuSeconds()
    _ = try await embedder.embed([short])
    singleCPU.append((cpuSeconds() - cpu) * 1000)
    latencies.append(seconds(clock.now - start) * 1000)
}
latencies.sort()
singleCPU.sort()

var longLatencies: [Double] = []
for _ in 0..<options.singleIterations / 2 {
    let start = clock.now
    _ = try await embedder.embed([long])
    longLatencies.append(seconds(clock.now - start) * 1000)
}
longLatencies.sort()

// Batch of 32: sentences per second on one worker.
for _ in 0..<2 { _ = try await embedder.embed(batch) }
var batchTimes: [Double] = []
var batchCPU: [Double] = []
for _ in 0..<options.batchIterations {
    let start = clock.now
    let cpu = cpuSeconds()
    _ = try await embedder.embed(batch)
    batchCPU.append(cpuSeconds() - cpu)
    batchTimes.append(seconds(clock.now - start))
}
batchTimes.sort()
batchCPU.sort()
let afterRun = memory()

let report: [String: Any] = [
    "implementation": "tollgate LocalEmbedder (Swift, OpenBLAS sgemm)",
    "openblas": OpenBLASRuntime.configuration,
    "openblas_core": OpenBLASRuntime.coreName,
    "openblas_warning": OpenBLASRuntime.performanceWarning ?? "",
    "model_load_ms": loadSeconds * 1000,
    "short_sentence": short,
    "short_tokens": embedder.tokenIDs(short).count,
    "single_p50_ms": percentile(latencies, 0.5),
    "single_p90_ms": percentile(latencies, 0.9),
    "single_min_ms": latencies[0],
    "single_cpu_p50_ms": percentile(singleCPU, 0.5),
    "single32_tokens": embedder.tokenIDs(long).count,
    "single32_p50_ms": percentile(longLatencies, 0.5),
    "batch_size": batch.count,
    "batch_tokens": batchTokens.reduce(0, +),
    "batch_p50_ms": percentile(batchTimes, 0.5) * 1000,
    "batch_sentences_per_s": Double(batch.count) / percentile(batchTimes, 0.5),
    "batch_cpu_p50_ms": percentile(batchCPU, 0.5) * 1000,
    "batch_sentences_per_cpu_s": Double(batch.count) / percentile(batchCPU, 0.5),
    "rss_before_load_mib": baseline.rss,
    "rss_after_load_mib": afterLoad.rss,
    "rss_after_run_mib": afterRun.rss,
    "peak_rss_mib": afterRun.peak,
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))
