extension Connection {
    /// Runs on the loop thread for each epoll event of this connection.
    func handle(_ event: Epoll.Event) {
        switch state.withLock({ $0.phase }) {
        case .reading: readRequest()
        case .writing: continueOutput()
        case .lingering: discardInput()
        case .parked: parkedEvent(event)
        case .streaming: streamEvent(event)
        // Someone took the connection over after epoll reported it; the new owner re-arms when it is done.
        case .handling, .closed: break
        }
    }

    /// After input or a response, as the owner: returns the next buffered request for the caller to serve, or
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

    /// Called by the loop's sweep once the deadline of a loop-owned phase has passed.
    func expire(_ expiry: Expiry) {
        switch expiry {
        case .idle, .write, .linger: close()
        case .header: sendFinal(HTTPError(408, "request headers not received in time"))
        case .body: sendFinal(HTTPError(408, "request body not received in time"))
        }
    }

    private func readRequest() {
        let received: IOResult<Int>
        do {
            received = try loop.receive(from: socket, into: &parser)
        } catch {
            return close()
        }
        switch received {
        case .wouldBlock:
            awaitInput()
        case .done(0):
            close()
        case .done:
            if requestStart == nil {
                requestStart = .now
            }
            if let request = nextStep() {
                dispatch(request)
            }
        }
    }

    /// Arms for input with the deadline of what is awaited: the body, the rest of the head, or the next request.
    private func awaitInput() {
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
        }
    }

    private func continueOutput() {
        do {
            guard try flushOutput() else {
                rearm(for: .output)
                return
            }
        } catch {
            return close()
        }
        if let request = proceed(afterOutput) {
            dispatch(request)
        }
    }

    private func discardInput() {
        do {
            while true {
                switch try loop.receive(from: socket) {
                case .done(0): return close()
                case .done: continue
                case .wouldBlock: return rearm(for: .input)
                }
            }
        } catch {
            close()
        }
    }

    /// Re-arms for the current loop-owned phase, keeping its deadline.
    private func rearm(for interest: Epoll.Interest) {
        if !state.withLock({ _ in loop.arm(self, for: interest) }) {
            close()
        }
    }
}
