import ArgumentParser
import Foundation

/// Why a CLI command ends unsuccessfully, and the exit code each reason has (documented in `--help` and the README).
enum CLIError: Error {
    /// Bad usage, or a 4xx from the service: exit 2.
    case usage(String)
    case rejected(status: Int, detail: String)
    /// The job ended failed: exit 1.
    case jobFailed(String)
    /// The job ended cancelled: exit 3.
    case jobCancelled(String)
    /// The service cannot be reached or answered 5xx: exit 4.
    case unreachable(String)
    case serverError(status: Int, detail: String)

    var exitCode: Int32 {
        switch self {
        case .usage, .rejected: 2
        case .jobFailed: 1
        case .jobCancelled: 3
        case .unreachable, .serverError: 4
        }
    }

    var message: String {
        switch self {
        case .usage(let text), .jobFailed(let text), .jobCancelled(let text), .unreachable(let text): text
        case .rejected(let status, let detail), .serverError(let status, let detail): "\(status): \(detail)"
        }
    }

    /// A response that is not 2xx, as the error it is.
    static func from(_ response: ServiceClient.Response) -> CLIError {
        let problem = response.object
        // Shown, never interpreted: a server's text may carry terminal escapes.
        let detail = TerminalText.safe(lines: (problem["detail"] as? String) ?? (response.text.isEmpty ? "no detail" : String(response.text.prefix(4096))))
        let code = (problem["code"] as? String).map { " [\(TerminalText.safe($0))]" } ?? ""
        let title = (problem["title"] as? String).map { "\(TerminalText.safe($0)): " } ?? ""
        if response.status >= 500 { return .serverError(status: response.status, detail: title + detail + code) }
        var more = ""
        if problem["code"] as? String == "preflight_failed" {
            let checks = problem["preflight"] as? [[String: Any]] ?? []
            // The detail names the checks; the operator needs their figures and actions to decide between fixing and --force.
            more = "\n" + PreflightLines.render(checks.filter { $0["status"] as? String != "ok" }, style: Style(enabled: false))
                + "\n(--force runs it anyway; the checks are still recorded)"
        }
        return .rejected(status: response.status, detail: title + detail + code + more)
    }
}

enum ExitCodes {
    static let help = """
        Exit codes: 0 succeeded (or accepted, without --wait); 1 the job failed; 2 bad usage or a 4xx from the
        service; 3 the job was cancelled; 4 the service is unreachable or answered 5xx.
        """
}

/// Runs a CLI command body, printing its error to standard error and exiting with the error's code.
func runCLI(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("error: \(TerminalText.safe(lines: error.message))\n".utf8))
        throw ExitCode(error.exitCode)
    }
}
