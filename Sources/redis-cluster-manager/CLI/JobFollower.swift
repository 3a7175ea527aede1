import Foundation

/// Follows a job's live event stream to its end: on a terminal a progress bar (slots, keys, rate, ETA) redrawn in
/// place with events printed above it; elsewhere one plain line per event. Answers the final job.
struct JobFollower {
    let client: ServiceClient
    let quiet: Bool
    let terminal = isatty(STDOUT_FILENO) == 1
    let style = Style.stdout

    private final class State {
        var job: [String: Any] = [:]
        var lastEventId: String?
        var barShown = false
        var startKeys: Int?
        var started = Date()
        var rateKeys: Double = 0
        /// The rate of the bar's measure (keys, bytes or slots per second).
        var rateUnits: Double = 0
        var lastSample: (at: Date, keys: Int, done: Int64)?
        var lastDraw = Date.distantPast
    }

    func follow(jobId: Int) throws(CLIError) -> [String: Any] {
        let state = State()
        var attempts = 0
        // A dropped stream is picked up again where it left off (Last-Event-ID), a few times.
        while attempts < 5 {
            attempts += 1
            let refused = try client.stream("/jobs/\(jobId)/events", lastEventId: state.lastEventId) { name, data in
                guard let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else { return true }
                switch name {
                case "event":
                    if let id = object["id"] as? Int { state.lastEventId = String(id) }
                    printEvent(object, state)
                case "progress":
                    state.job = object
                    drawBar(state, force: false)
                case "job":
                    state.job = object
                    return false
                default: break
                }
                return true
            }
            if let refused { throw CLIError.from(refused) }
            if let status = state.job["status"] as? String, ["succeeded", "failed", "cancelled"].contains(status) { break }
            // The stream ended without the final job (the service restarting): ask for it, and follow again if needed.
            let current = try client.get("/jobs/\(jobId)")
            guard current.status == 200 else { throw CLIError.from(current) }
            state.job = current.object
            if let status = state.job["status"] as? String, ["succeeded", "failed", "cancelled"].contains(status) { break }
            Thread.sleep(forTimeInterval: 1)
        }
        if state.barShown {
            drawBar(state, force: true)
            print("")
        }
        return state.job
    }

    private func printEvent(_ event: [String: Any], _ state: State) {
        guard !quiet else { return }
        let at = (event["at"] as? String).map { String($0.dropFirst(11).prefix(8)) } ?? ""
        let level = event["level"] as? String ?? "info"
        let message = TerminalText.safe(event["message"] as? String ?? "")
        let tag = level == "error" ? style.red("error") : level == "warning" ? style.yellow("warn ") : style.dim("info ")
        let line = "\(style.dim(at)) \(tag) \(message)"
        if terminal && state.barShown {
            print("\r\u{1B}[2K" + line)
            drawBar(state, force: true)
        } else {
            print(line)
        }
        fflush(nil)
    }

    /// The bar, on a terminal only: `[#####-----] 125 000/250 000 keys · 2048/4096 slots · 41 200 keys/s · ETA 0:05 · step`.
    /// It measures keys when the job counted them (slots can hold very different numbers of keys), bytes for a
    /// backup, and slots otherwise; the ETA uses the same measure's rate.
    private func drawBar(_ state: State, force: Bool) {
        guard terminal, !quiet else { return }
        let now = Date()
        guard force || now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
        state.lastDraw = now
        let progress = ProgressMeasure(state.job["progress"] as? [String: Any] ?? [:])
        let step = (state.job["progress"] as? [String: Any])?["step"] as? String ?? (state.job["status"] as? String ?? "")
        if let last = state.lastSample {
            let seconds = now.timeIntervalSince(last.at)
            if seconds >= 0.25 {
                let keyRate = Double(progress.keys - last.keys) / seconds
                let unitRate = Double(progress.done - last.done) / seconds
                state.rateKeys = state.rateKeys == 0 ? keyRate : 0.7 * state.rateKeys + 0.3 * keyRate
                state.rateUnits = state.rateUnits == 0 ? unitRate : 0.7 * state.rateUnits + 0.3 * unitRate
                state.lastSample = (now, progress.keys, progress.done)
            }
        } else {
            state.lastSample = (now, progress.keys, progress.done)
        }
        let width = 30
        let filled = Int(progress.fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var parts = ["[\(style.green(bar))]"] + progress.labels
        if progress.unit != .bytes, state.rateKeys > 0 { parts.append("\(Self.grouped(Int(state.rateKeys))) keys/s") }
        if progress.unit == .bytes, state.rateUnits > 0 { parts.append("\(ProgressMeasure.size(Int64(state.rateUnits)))/s") }
        if state.rateUnits > 0, progress.total > progress.done {
            parts.append("ETA \(Self.clock(Double(progress.total - progress.done) / state.rateUnits))")
        }
        parts.append(TerminalText.safe(String(step.prefix(40))))
        print("\r\u{1B}[2K" + parts.joined(separator: " · "), terminator: "")
        fflush(nil)
        state.barShown = true
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { out.append(" ") }
            out.append(character)
        }
        return String(out.reversed())
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let whole = Int(seconds.rounded(.up))
        return whole >= 3600 ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
            : String(format: "%d:%02d", whole / 60, whole % 60)
    }
}

/// What a finished job means for the CLI's exit code, and the one line that says how it ended.
enum JobOutcome {
    static func check(_ job: [String: Any]) throws(CLIError) {
        let id = job["id"] as? Int ?? 0
        let type = job["type"] as? String ?? "job"
        switch job["status"] as? String {
        case "failed":
            let error = job["error"] as? [String: Any] ?? [:]
            throw .jobFailed("job \(id) (\(type)) failed: \(error["message"] as? String ?? "no message") [\(error["code"] as? String ?? "?")]")
        case "cancelled":
            throw .jobCancelled("job \(id) (\(type)) was cancelled")
        default: return
        }
    }

    static func summary(_ job: [String: Any]) -> String {
        let style = Style.stdout
        let id = job["id"] as? Int ?? 0
        let status = job["status"] as? String ?? "?"
        let progress = job["progress"] as? [String: Any] ?? [:]
        let coloured = status == "succeeded" ? style.green(status) : status == "failed" ? style.red(status)
            : status == "cancelled" ? style.yellow(status) : status
        var line = "job \(id) \(job["type"] as? String ?? "") on \(job["cluster_id"] as? String ?? ""): \(coloured)"
        let measure = ProgressMeasure(progress)
        if measure.unit == .bytes {
            line += ", \(ProgressMeasure.size(measure.done)) written"
        } else if measure.total > 0 {
            line += ", " + measure.labels.reversed().joined(separator: ", ")
        }
        if let started = (job["started_at"] as? String).flatMap(parseDate), let finished = (job["finished_at"] as? String).flatMap(parseDate) {
            line += String(format: " in %.1f s", finished.timeIntervalSince(started))
        }
        return line
    }

    /// The verification of an ended job, one line per check under a verdict; nil while there is none.
    /// ✓ and ✗ on a terminal, OK and FAIL elsewhere (what a script greps for).
    static func verification(_ job: [String: Any], terminal: Bool = isatty(STDOUT_FILENO) == 1) -> String? {
        guard let verification = job["verification"] as? [String: Any] else { return nil }
        let style = Style.stdout
        let passed = verification["passed"] as? Bool == true
        var lines = ["verification: " + (passed ? style.green("passed") : style.red("failed"))]
        let checks = verification["checks"] as? [[String: Any]] ?? []
        let width = checks.map { ($0["name"] as? String ?? "").count }.max() ?? 0
        for check in checks {
            let ok = check["passed"] as? Bool == true
            let mark = terminal ? (ok ? style.green("✓") : style.red("✗")) : (ok ? "OK  " : "FAIL")
            let name = TerminalText.safe(check["name"] as? String ?? "")
            lines.append("  \(mark)  \(name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0))  "
                         + TerminalText.safe(check["detail"] as? String ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    static func parseDate(_ text: String) -> Date? {
        try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
