/// Serves one accepted connection on its own thread: reads requests in order, calls the handler,
/// writes the responses, and enforces the header, body and idle deadlines.
struct Connection {
    let socket: Socket
    let remoteAddress: String
    let server: HTTPServer

    /// Short enough that an idle connection notices shutdown promptly.
    private static let pollSlice = Duration.milliseconds(200)
    /// How long to read and discard what the peer still sends after our final response; closing with
    /// unread input would make the kernel send a reset that can destroy that response in flight.
    private static let lingerTime = Duration.seconds(2)

    private var configuration: HTTPServerConfiguration { server.configuration }

    func serve() {
        var parser = HTTPRequestParser(
            maxHeaderBytes: configuration.maxHeaderBytes, maxBodyBytes: configuration.maxBodyBytes)
        var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
        var idleSince = ContinuousClock.now
        var requestStart: ContinuousClock.Instant?
        var bodyStart: ContinuousClock.Instant?
        while true {
            do throws(HTTPParseError) {
                while let request = try parser.next() {
                    guard respond(to: request) else { return lingeringClose() }
                    idleSince = .now
                    requestStart = parser.hasPartialRequest ? .now : nil
                    bodyStart = nil
                }
            } catch {
                sendFinal(HTTPError(error.status, error.detail))
                return lingeringClose()
            }
            if !parser.hasPartialRequest {
                requestStart = nil
            }
            if parser.isReadingBody {
                if bodyStart == nil {
                    bodyStart = .now
                }
                if parser.takeContinueExpectation() {
                    let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                    guard socket.sendAll(interim, deadline: writeDeadline()) else { return }
                }
            }

            let deadline: ContinuousClock.Instant
            if let bodyStart {
                deadline = bodyStart + .seconds(configuration.bodyTimeout)
            } else if let requestStart {
                deadline = requestStart + .seconds(configuration.headerTimeout)
            } else {
                // Between requests is the one state in which shutdown closes a connection at once.
                if server.isShuttingDown {
                    return
                }
                deadline = idleSince + .seconds(configuration.idleTimeout)
            }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                if bodyStart != nil {
                    sendFinal(HTTPError(408, "request body not received in time"))
                } else if requestStart != nil {
                    sendFinal(HTTPError(408, "request headers not received in time"))
                } else {
                    return
                }
                return lingeringClose()
            }

            switch socket.waitReadable(timeout: min(remaining, Self.pollSlice)) {
            case .timedOut: continue
            case .failed: return
            case .ready: break
            }
            switch socket.receive(into: &readBuffer) {
            case .received(let count):
                if requestStart == nil {
                    requestStart = .now
                }
                parser.append(readBuffer[..<count])
            case .wouldBlock:
                continue
            case .closed, .failed:
                return
            }
        }
    }

    /// Answers a connection over the cap with 503, without reading its request.
    func turnAway() {
        let headers = HTTPHeaders([("Retry-After", "1")])
        sendFinal(HTTPError(503, "too many connections", headers: headers))
        lingeringClose()
    }

    /// Calls the handler and writes its response; false when the connection must close afterwards.
    private func respond(to parsed: HTTPRequest) -> Bool {
        var request = parsed
        request.remoteAddress = remoteAddress
        let started = ContinuousClock.now
        let response = server.handler(request)
        let wantsKeepAlive =
            request.version == "HTTP/1.1"
            ? !request.headers.contains(token: "close", in: "Connection")
            : request.headers.contains(token: "keep-alive", in: "Connection")
        let keepAlive = wantsKeepAlive && !response.requestsClose && !server.isShuttingDown
        let connection: String? = keepAlive ? (request.version == "HTTP/1.0" ? "keep-alive" : nil) : "close"
        let bytes = response.wireBytes(
            requestID: request.requestID, omitBody: request.method == "HEAD", connection: connection)
        let sent = socket.sendAll(bytes, deadline: writeDeadline())
        let milliseconds = Int((started.duration(to: .now) / .milliseconds(1)).rounded())
        configuration.log(
            "\(request.requestID) \(request.method) \(Self.loggable(request.path)) \(response.status) \(milliseconds)ms")
        return sent && keepAlive
    }

    /// A problem response after which the connection closes; logged with "-" for the unknown method and path.
    private func sendFinal(_ error: HTTPError) {
        let requestID = RequestID.make()
        let bytes = HTTPResponse.problem(error).wireBytes(requestID: requestID, omitBody: false, connection: "close")
        _ = socket.sendAll(bytes, deadline: writeDeadline())
        configuration.log("\(requestID) - - \(error.status) 0ms")
    }

    private func lingeringClose() {
        socket.shutdownWrite()
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        let deadline = ContinuousClock.now + Self.lingerTime
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return }
            switch socket.waitReadable(timeout: min(remaining, Self.pollSlice)) {
            case .timedOut:
                continue
            case .failed:
                return
            case .ready:
                switch socket.receive(into: &scratch) {
                case .received, .wouldBlock: continue
                case .closed, .failed: return
                }
            }
        }
    }

    /// A peer that doesn't take our response within the body timeout is given up on.
    private func writeDeadline() -> ContinuousClock.Instant {
        .now + .seconds(configuration.bodyTimeout)
    }

    /// The path with controls and spaces escaped, so a request can't forge or split access-log lines.
    static func loggable(_ path: String) -> String {
        var text = ""
        for scalar in path.unicodeScalars {
            if scalar.value <= 0x20 || (0x7F...0x9F).contains(scalar.value) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                text += "%" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text.isEmpty ? "-" : text
    }
}
