extension Connection {
    /// The handler returned a deferred response: the application now holds the request, and epoll only watches for
    /// the peer closing. Bytes the client pipelines behind it stay in the socket until the answer is sent.
    /// Runs on the handler thread that claimed the connection.
    func park(_ responder: HTTPResponder) {
        let lost = state.withLock { state -> HTTPResponder? in
            state.deadline = nil
            state.responder = responder
            return wait(in: .parked, for: .peerClose, &state)
        }
        if let lost {
            lost.interrupt(.peerClosed)
        } else if loop.isShuttingDown {
            // Shutdown may have swept the connections before this one was parked.
            responder.interrupt(.shuttingDown)
        }
    }

    /// Claims the parked request for `responder`, whose thread then sends the answer;
    /// false once it was answered or the connection is gone.
    func unpark(for responder: HTTPResponder) -> Bool {
        state.withLock { state in
            guard state.phase == .parked, state.responder === responder else { return false }
            state.phase = .handling
            state.responder = nil
            return true
        }
    }

    /// Loop, once the shutdown grace has passed: closes the connection whatever it is doing. A handler still running
    /// keeps the descriptor but finds its reads and writes failing, and closes the connection when it returns.
    func forceClose() {
        let ownedElsewhere = state.withLock { state -> Bool in
            guard state.phase != .handling else { return true }
            _ = state.close()
            return false
        }
        if ownedElsewhere {
            socket.shutdownBoth()
        } else {
            loop.release(self)
        }
    }

    /// A parked connection is armed for nothing but the peer closing.
    func parkedEvent(_ event: Epoll.Event) {
        let lost = state.withLock { state -> HTTPResponder? in
            guard state.phase == .parked else { return nil }
            guard event.isHangup else { return wait(in: .parked, for: .peerClose, &state) }
            return close(&state)
        }
        lost?.interrupt(.peerClosed)
    }
}
