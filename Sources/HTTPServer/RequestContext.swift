/// What answering a request needs to know about it once the handler has it: framing and the access-log line.
struct RequestContext: Sendable {
    let requestID: String
    let method: String
    let path: String
    let version: String
    /// What the client asked for; the server may still close (shutdown, or the response says `Connection: close`).
    let wantsKeepAlive: Bool
    let started: ContinuousClock.Instant

    init(_ request: HTTPRequest, started: ContinuousClock.Instant) {
        requestID = request.requestID
        method = request.method
        path = request.path
        version = request.version
        wantsKeepAlive =
            request.version == "HTTP/1.1"
            ? !request.headers.contains(token: "close", in: "Connection")
            : request.headers.contains(token: "keep-alive", in: "Connection")
        self.started = started
    }

    var omitsBody: Bool { method == "HEAD" }

    /// The access-log line: request id, method, escaped path, status and milliseconds since the handler was called.
    func logLine(status: Int) -> String {
        let milliseconds = Int((started.duration(to: .now) / .milliseconds(1)).rounded())
        return "\(requestID) \(method) \(Connection.loggable(path)) \(status) \(milliseconds)ms"
    }
}
