import Foundation

/// A Python script run to its end, as the client-side tests run one (a real redis-py client, Chromium over the
/// DevTools pipe): its exit status, its output, and the report it prints as a JSON object on its last line.
struct ScriptRun {
    let status: Int32
    let output: String

    /// The last line of the output, read as a JSON object.
    var report: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data((output.split(separator: "\n").last ?? "").utf8))) as? [String: Any]
    }

    /// Where the scripts are (a script run with `python3 -c` may import them from there).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    /// `Scripts/<name>` with `arguments`. With `mergeErrors` false the script's stderr goes to the test's own.
    static func script(_ name: String, _ arguments: [String], mergeErrors: Bool = true) throws -> ScriptRun {
        try python([directory.appendingPathComponent(name).path] + arguments, mergeErrors: mergeErrors)
    }

    /// `python3 arguments…` (e.g. `-c CODE …`).
    static func python(_ arguments: [String], mergeErrors: Bool = true) throws -> ScriptRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = mergeErrors ? output : FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ScriptRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
