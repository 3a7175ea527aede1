import Foundation

/// Preflight checks as lines: `ok    health           message`, and for a check that is not ok its action after a dash.
enum PreflightLines {
    static func render(_ checks: [[String: Any]], style: Style) -> String {
        let width = checks.map { ($0["name"] as? String ?? "").count }.max() ?? 0
        return checks.map { check in
            let status = check["status"] as? String ?? "?"
            let tag = status == "ok" ? style.green("ok  ") : status == "warn" ? style.yellow("WARN") : style.red("FAIL")
            let name = TerminalText.safe(check["name"] as? String ?? "")
            var line = "  \(tag)  \(name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0))  "
                + TerminalText.safe(check["message"] as? String ?? "")
            if status != "ok", let action = check["action"] as? String, !action.isEmpty { line += " — " + TerminalText.safe(action) }
            return line
        }.joined(separator: "\n")
    }

    /// An ETag header's value without its quotes (and weak prefix), as --if-match takes it.
    static func unquoted(_ etag: String) -> String {
        var text = Substring(etag)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
        return String(text)
    }
}

/// A dry run for people: the plan's summary, its preflight checks, the topology etag it was made on, and the command
/// that runs exactly this plan (the same flags with --if-match, so a cluster that changed since is refused).
enum DryRunReport {
    static func render(_ response: ServiceClient.Response, kind: String, cluster: String) -> String {
        let style = Style.stdout
        let answer = response.object
        let plan = answer["plan"] as? [String: Any] ?? [:]
        var lines = ["dry run of \(kind) on \(TerminalText.safe(cluster)), nothing changed: "
                     + TerminalText.safe(plan["summary"] as? String ?? "no summary")]
        let checks = plan["preflight"] as? [[String: Any]] ?? []
        if !checks.isEmpty {
            lines.append("preflight:")
            lines.append(PreflightLines.render(checks, style: style))
        }
        if checks.contains(where: { $0["status"] as? String == "fail" }) {
            lines.append(style.red("a check fails: the job would be refused unless --force"))
        }
        let etag = (answer["topology_etag"] as? String) ?? (plan["topology_etag"] as? String)
            ?? response.headers["etag"].map(PreflightLines.unquoted)
        if let etag {
            let etag = TerminalText.safe(etag)
            lines.append("topology etag: \(etag)")
            lines.append("to run exactly this plan: " + TerminalText.safe(applyCommand(etag: etag)))
        }
        return lines.joined(separator: "\n")
    }

    /// This command line without --dry-run (or an earlier --if-match), with `--if-match etag`; a --token given on the
    /// command line is left out, so the hint never prints it.
    static func applyCommand(etag: String, arguments: [String] = CommandLine.arguments) -> String {
        var kept: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                // What follows the terminator (call's command) is the command's own words, kept as typed.
                kept.append(contentsOf: ["--if-match", etag, "--"] + arguments[index...])
                return kept.map(shellQuoted).joined(separator: " ")
            }
            if argument == "--dry-run" || argument == "--json" { continue }
            if argument == "--token" || argument == "--if-match" {
                index += 1
                continue
            }
            if argument.hasPrefix("--token=") || argument.hasPrefix("--if-match=") { continue }
            kept.append(argument)
        }
        kept.append(contentsOf: ["--if-match", etag])
        return kept.map(shellQuoted).joined(separator: " ")
    }

    static func shellQuoted(_ word: String) -> String {
        let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./:=@,+%"))
        guard !word.isEmpty, word.unicodeScalars.allSatisfy({ $0.isASCII && plain.contains($0) }) else {
            return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }
        return word
    }
}
