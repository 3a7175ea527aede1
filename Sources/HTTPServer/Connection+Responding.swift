extension Connection {
    /// Serves the request and any pipelined ones behind it, on the calling thread, which has claimed the connection.
    func serve(_ request: HTTPRequest) {
        var next: HTTPRequest? = request
        while let request = next {
            next = respond(to: request)
        }
    }

    /// Sends a complete response as the claimant and logs it; returns a pipelined request that is ready to serve next.
    func send(_ response: HTTPResponse, for context: RequestContext) -> HTTPRequest? {
        let keepAlive = context.wantsKeepAlive && !response.requestsClose && !loop.isShuttingDown
        let connection: String? = keepAlive ? (context.version == "HTTP/1.0" ? "keep-alive" : nil) : "close"
        let bytes = response.wireBytes(requestID: context.requestID, omitBody: context.omitsBody, connection: connection)
        loop.configuration.log(context.logLine(status: HTTPResponse.wireStatus(response.status)))
        return transmit(bytes, then: keepAlive ? .nextRequest : .close)
    }

    /// A problem response after which the connection closes; logged with "-" for the unknown method and path.
    func sendFinal(_ error: HTTPError) {
        let requestID = RequestID.make()
        loop.configuration.log("\(requestID) - - \(error.status) 0ms")
        let bytes = HTTPResponse.problem(error).wireBytes(requestID: requestID, omitBody: false, connection: "close")
        _ = transmit(bytes, then: .linger)
    }

    /// Answers a connection over the cap with 503, without reading its request.
    func turnAway() {
        sendFinal(HTTPError(503, "too many connections", headers: HTTPHeaders([("Retry-After", "1")])))
    }

    /// Sends what the socket takes now and waits in `.writing` for room for the rest, so no thread ever waits on a
    /// slow reader.
    /// Returns a pipelined request that is ready to serve at once.
    func transmit(_ bytes: [UInt8], then after: AfterOutput) -> HTTPRequest? {
        output = bytes
        outputOffset = 0
        afterOutput = after
        do {
            guard try flushOutput() else {
                enter(.writing, until: .now + .seconds(loop.configuration.bodyTimeout), expiry: .write, waitingFor: .output)
                return nil
            }
        } catch {
            close()
            return nil
        }
        return proceed(after)
    }

    /// Sends as much of `output` as the socket takes; true once all of it is out.
    func flushOutput() throws(SystemCallError) -> Bool {
        while outputOffset < output.count {
            let offset = outputOffset
            // Array's withUnsafeBytes only rethrows untyped errors, hence the Result.
            let sent = try output.withUnsafeBytes { bytes in
                Result { () throws(SystemCallError) in try socket.send(UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
            }.get()
            guard case .done(let count) = sent else { return false }
            outputOffset += count
        }
        output = []
        outputOffset = 0
        return true
    }

    /// What follows a fully sent response or interim; returns a pipelined request that is ready to serve at once.
    func proceed(_ after: AfterOutput) -> HTTPRequest? {
        switch after {
        case .nextRequest:
            idleSince = .now
            requestStart = parser.hasPartialRequest ? .now : nil
            bodyStart = nil
            return nextStep()
        case .readMore:
            return nextStep()
        case .close:
            close()
            return nil
        case .linger:
            socket.shutdownWrite()
            enter(.lingering, until: .now + Self.lingerTime, expiry: .linger, waitingFor: .input)
            return nil
        }
    }

    private func respond(to parsed: HTTPRequest) -> HTTPRequest? {
        var request = parsed
        request.remoteAddress = remoteAddress
        let context = RequestContext(request, started: .now)
        let response = loop.handler(request)
        guard let deferral = response.deferral else {
            return send(response, for: context)
        }
        let responder = HTTPResponder(connection: self, context: context)
        park(responder)
        deferral(responder)
        return nil
    }
}
