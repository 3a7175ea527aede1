extension Connection {
    /// Sends the head of a streamed response for the parked request of `responder`; false once it was answered or
    /// the connection is gone.
    func openStream(for responder: HTTPResponder, status: Int, headers: HTTPHeaders) -> Bool {
        let context = responder.context
        let status = HTTPResponse.wireStatus(status)
        let head = HTTPResponse(status: status, headers: headers).streamHeadBytes(requestID: context.requestID)
        let (opened, lost) = state.withLock { state -> (Bool, HTTPResponder?) in
            guard state.phase == .parked, state.responder === responder else { return (false, nil) }
            state.phase = .streaming
            state.stream = StreamOutput()
            state.stream.bytes = head
            state.stream.discardsBody = context.omitsBody || !HTTPResponse.allowsBody(status)
            // Parking armed it so; an event since then is still to be handled, and is handled as streaming.
            state.stream.armed = .peerClose
            return (true, flushStream(&state))
        }
        if opened {
            loop.configuration.log(context.logLine(status: status))
        }
        lost?.interrupt(.peerClosed)
        return opened
    }

    /// Queues bytes of the stream and sends what the socket takes now; false once the stream is over.
    func writeStream(_ bytes: [UInt8]) -> Bool {
        let (accepted, lost) = state.withLock { state -> (Bool, HTTPResponder?) in
            guard state.phase == .streaming, !state.stream.finished else { return (false, nil) }
            if state.stream.discardsBody {
                return (true, nil)
            }
            guard state.stream.pending + bytes.count <= StreamOutput.limit else {
                // The peer stopped reading: close rather than buffer without bound.
                return (false, close(&state))
            }
            state.stream.bytes.append(contentsOf: bytes)
            let lost = flushStream(&state)
            return (state.phase == .streaming, lost)
        }
        lost?.interrupt(.peerClosed)
        return accepted
    }

    /// Ends the body: once the queued bytes are out the connection closes (after a linger, like any final response).
    func finishStream() {
        let (settled, lost) = state.withLock { state -> (HTTPResponder?, HTTPResponder?) in
            guard state.phase == .streaming, !state.stream.finished else { return (nil, nil) }
            state.stream.finished = true
            // The answer is complete: the application hears of nothing more about this request.
            let responder = state.responder
            state.responder = nil
            return (responder, flushStream(&state))
        }
        settled?.settle()
        lost?.interrupt(.peerClosed)
    }

    /// The peer closed, or there is room for more of the stream.
    func streamEvent(_ event: Epoll.Event) {
        let lost = state.withLock { state -> HTTPResponder? in
            guard state.phase == .streaming else { return nil }
            state.stream.armed = nil
            if event.isHangup {
                return close(&state)
            }
            if event.isWritable {
                state.stream.waitingForRoom = false
            }
            return flushStream(&state)
        }
        lost?.interrupt(.peerClosed)
    }

    /// Sends queued stream bytes without blocking, under the lock so that writers and handler threads never
    /// interleave on the socket, then arms for what is still awaited. Returns the responder to tell when the peer
    /// turned out gone.
    private func flushStream(_ state: inout State) -> HTTPResponder? {
        do throws(SystemCallError) {
            while !state.stream.waitingForRoom, state.stream.pending > 0 {
                let offset = state.stream.offset
                let sent = try state.stream.bytes.withUnsafeBytes { bytes in
                    Result { () throws(SystemCallError) in
                        try socket.send(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    }
                }.get()
                switch sent {
                case .done(let count): state.stream.offset += count
                case .wouldBlock: state.stream.waitingForRoom = true
                }
            }
        } catch {
            return close(&state)
        }
        state.stream.compact()
        if state.stream.finished, state.stream.pending == 0 {
            // Like any final response: linger (see `proceed(.linger)`).
            socket.shutdownWrite()
            state.deadline = .now + Self.lingerTime
            state.expiry = .linger
            state.stream = StreamOutput()
            return wait(in: .lingering, for: .input, &state)
        }
        let wanted: Epoll.Interest = state.stream.waitingForRoom ? [.peerClose, .output] : .peerClose
        guard state.stream.armed != wanted else { return nil }
        state.stream.armed = wanted
        return wait(in: .streaming, for: wanted, &state)
    }
}
