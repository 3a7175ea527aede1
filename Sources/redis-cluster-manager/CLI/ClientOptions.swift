import ArgumentParser
import Foundation

/// Where the service is and who we are to it; shared by every client command.
struct ClientOptions: ParsableArguments {
    @Option(help: "The service's URL. Env: RCM_SERVER.")
    var server: String = ProcessInfo.processInfo.environment["RCM_SERVER"] ?? "http://127.0.0.1:8080"

    @Option(help: "Bearer token. Env: RCM_TOKEN (preferred: a token on the command line shows in ps).")
    var token: String?

    @Flag(help: "Machine output: the service's JSON as it answered.")
    var json = false

    func client() throws(CLIError) -> ServiceClient {
        let token = self.token ?? ProcessInfo.processInfo.environment["RCM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return try ServiceClient(server: server, token: token)
    }

    /// The 2xx response, else the error it stands for.
    func expectSuccess(_ response: ServiceClient.Response) throws(CLIError) -> ServiceClient.Response {
        guard (200..<300).contains(response.status) else { throw CLIError.from(response) }
        // Whatever answered is not the service if a success is not its JSON (a proxy's login page, a wrong port).
        let type = response.headers["content-type"]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json", (try? JSONSerialization.jsonObject(with: Data(response.body))) is [String: Any] else {
            throw .unreachable("the server answered \(response.status) with \(TerminalText.safe(String((type ?? "no Content-Type").prefix(80)))), "
                               + "not the service's JSON: is --server the service?")
        }
        return response
    }

    /// Prints the body as the service sent it (pretty when it is JSON).
    func printJSON(_ response: ServiceClient.Response) {
        if let value = try? JSONSerialization.jsonObject(with: Data(response.body)),
           let pretty = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(TerminalText.safe(lines: response.text))
        }
    }
}

/// A password for a request body: the first line of `file`, else the environment variable `variable`, else none.
/// Never a command-line value, which `ps` would show.
func password(file: String?, variable: String) throws(CLIError) -> String? {
    if let file {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw .usage("cannot read --password-file \(file)") }
        return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }
    return ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
}

/// ANSI colour on a terminal (unless NO_COLOR is set), plain text otherwise.
struct Style {
    let enabled: Bool

    static let stdout = Style(enabled: isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)

    func green(_ text: String) -> String { wrap(text, "32") }
    func red(_ text: String) -> String { wrap(text, "31") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }

    private func wrap(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
}

/// Text from the service (or a cluster, through it) made harmless for a terminal: an escape sequence in a node's
/// reply or a job's message could otherwise move the cursor, retitle the window or hide what follows.
enum TerminalText {
    /// One line: every control character (newlines too) shows escaped as `\x1b`, a bidirectional override as
    /// `\u{202e}`: text from a server is shown, never interpreted by the terminal.
    static func safe(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value) {
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u{" + hex + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Several lines, each made safe; the line breaks stay.
    static func safe(lines text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { safe(String($0)) }.joined(separator: "\n")
    }
}
