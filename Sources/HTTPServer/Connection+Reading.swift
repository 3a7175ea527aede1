extension Connection {
    /// A handler thread was woken for this connection: claims it if it waits for epoll, and does what its phase
    /// waits for. `scratch` is the thread's read buffer, so a waiting connection holds none of its own.
    func handle(_ event: Epoll.Event, scratch: inout [UInt8]) {
        let waited = state.withLock { state -> Phase in
            let phase = state.phase
            if phase.isClaimable {
                state.phase = .handling
            }
            return phase
        }
        switch waited {
        case .reading: readRequest(scratch: &scratch)
        case .writing: continueOutput()
        case .lingering: discardInput(scratch: &scratch)
        case .parked: parkedEvent(event)
        case .streaming: streamEvent(event)
        // Claimed by another thread since epoll reported it (a deadline, shutdown, a responder); it re-arms when done.
        case .handling, .closed: break
        }
    }

    /// After input or a response, as the claimant: returns the next buffered request for the caller to serve, or
    /// answers a malformed one, sends an interim 100 Continue, or waits for more input.
    func nextStep() -> HTTPRequest? {
        do throws(HTTPParseError) {
            if let request = try parser.next() {
                return request
            }
        } catch {
            sendFinal(HTTPError(error.status, error.detail))
            return nil
        }
        if !parser.hasPartialRequest {
            requestStart = nil
        }
        if parser.isReadingBody {
            if bodyStart == nil {
                bodyStart = .now
            }
            if parser.takeContinueExpectation() {
                return transmit(Self.continueBytes, then: .readMore)
            }
        }
        awaitInput()
        return nil
    }

    /// Called by the loop once it has claimed the connection at a passed deadline.
    func expire(_ expiry: Expiry) {
        switch expiry {
        case .idle, .write, .linger: close()
        case .header: sendFinal(HTTPError(408, "request headers not received in time"))
        case .body: sendFinal(HTTPError(408, "request body not received in time"))
        }
    }

    /// Loop, at shutdown: a connection between requests closes (`awaitInput` sees the flag), one in the middle of a
    /// request carries on, and a parked or streamed request's responder is told to finish.
    func shutDown() {
        if claim(waitingIn: .reading) {
            awaitInput()
        } else if let responder = state.withLock({ $0.phase == .parked || $0.phase == .streaming ? $0.responder : nil }) {
            responder.interrupt(.shuttingDown)
        }
    }

    /// Gives the connection up to wait for input, with the deadline of what is awaited: the body, the rest of the
    /// head, or the next request.
    func awaitInput() {
        let configuration = loop.configuration
        if let bodyStart {
            enter(.reading, until: bodyStart + .seconds(configuration.bodyTimeout), expiry: .body, waitingFor: .input)
        } else if let requestStart {
            enter(
                .reading, until: requestStart + .seconds(configuration.headerTimeout), expiry: .header,
                waitingFor: .input)
        } else if loop.isShuttingDown {
            // Between requests is the one state in which shutdown closes a connection at once.
            close()
        } else {
            enter(.reading, until: idleSince + .seconds(configuration.idleTimeout), expiry: .idle, waitingFor: .input)
            // Shutdown may have gone over the connections while this one was claimed, and then it is ours to close.
            if loop.isShuttingDown, claim(waitingIn: .reading) {
                close()
            }
        }
    }

    private func readRequest(scratch: inout [UInt8]) {
        let received: IOResult<Int>
        do {
            received = try receive(into: &scratch)
        } catch {
            return close()
        }
        switch received {
        case .wouldBlock:
            awaitInput()
        case .done(0):
            close()
        case .done(let count):
            parser.append(scratch[..<count])
            if requestStart == nil {
                requestStart = .now
            }
            if let request = nextStep() {
                serve(request)
            }
        }
    }

    private func continueOutput() {
        do {
            guard try flushOutput() else {
                return resume(.writing, waitingFor: .output)
            }
        } catch {
            return close()
        }
        if let request = proceed(afterOutput) {
            serve(request)
        }
    }

    private func discardInput(scratch: inout [UInt8]) {
        do {
            while true {
                switch try receive(into: &scratch) {
                case .done(0): return close()
                case .done: continue
                case .wouldBlock: return resume(.lingering, waitingFor: .input)
                }
            }
        } catch {
            close()
        }
    }

    /// Reads what is there into `scratch`; `.done(0)` is the end of input.
    private func receive(into scratch: inout [UInt8]) throws(SystemCallError) -> IOResult<Int> {
        // Array's withUnsafeMutableBytes only rethrows untyped errors, hence the Result.
        try scratch.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemCallError) in try socket.receive(into: buffer) }
        }.get()
    }
}
