// semantic-bench: the semantic cache's measurements (bench/semantic/run.sh).
//
//   semantic-bench study --data qqp.json [--samples 10] [--fit 5] [--model DIR]
//       fits the guard on the first --fit samples of 2,000 pairs, prints its coefficients and
//       both curves (raw cosine and guarded) on the other samples, as JSON on stdout.
//   semantic-bench lookup [--model DIR]
//       lookup latency at 1k/10k/100k x 384 against streaming the matrix once, single and
//       batched, and the guard's cost per lookup.
import Foundation
import TollgateEmbedding

var arguments = CommandLine.arguments.dropFirst()
let mode = arguments.popFirst() ?? "study"
var options: [String: String] = [:]
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("\(flag) needs a value") }
    options[String(flag.dropFirst(2))] = value
}
let modelDirectory = options["model"] ?? LocalEmbedder.defaultModelDirectory

switch mode {
case "study":
    try await runStudy(options: options, modelDirectory: modelDirectory)
case "lookup":
    try await runLookup(options: options, modelDirectory: modelDirectory)
default:
    fatalError("unknown mode \(mode): study or lookup")
}
