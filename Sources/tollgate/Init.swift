import ArgumentParser
import TollgateCore

/// `tollgate init DIR`: the shipped configuration, written out for editing.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the shipped configuration (tollgate.yaml, routes/, budgets/, prompts/) to a directory for editing."
    )

    @Argument(help: "Where to write the files (created if missing).") var directory: String
    @Flag(help: "Replace files that exist.") var force = false

    func run() throws {
        let written: [String]
        do {
            written = try ShippedFiles.write(to: self.directory, overwrite: self.force)
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        for path in written { print("wrote \(path)") }
        print("next: cd \(self.directory) && tollgate routes check && tollgate serve   (relative paths in tollgate.yaml resolve against the working directory)")
    }
}
