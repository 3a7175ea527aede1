import Synchronization

/// One accepted connection: its parser, the response on its way out, and who is in charge of it right now.
///
/// The fields outside `state` belong to the connection's current owner, one thread at a time, and `state.phase`
/// says which thread that is (see `Phase`). Ownership changes hands only inside `state`'s lock, which is also where
/// the descriptor is re-armed in epoll: a hand-off can't race the readiness it waits for, and the loop never frees a
/// descriptor that another thread is using.
final class Connection: @unchecked Sendable {
    enum Phase {
        /// Loop-owned: waiting for a request or the rest of one; armed for input.
        case reading
        /// Owned by the thread that runs the handler and sends the response: a handler thread, or whichever thread
        /// answered a deferred request. Nothing is armed, so the loop leaves it alone.
        case handling
        /// Loop-owned: sending what the socket couldn't take at once; armed for output.
        case writing
        /// The application holds the request's responder; the loop only watches for the peer closing.
        case parked
        /// A streamed body: writers queue bytes and send them under the lock; the loop watches for the peer
        /// closing and for room in the socket.
        case streaming
        /// Loop-owned: after a final response, reading and discarding until the peer closes or the time is up.
        case lingering
        /// Over: the loop frees the descriptor, and every later call is a no-op.
        case closed
    }

    /// What the loop does when `State.deadline` passes.
    enum Expiry {
        /// Between requests: close without a response.
        case idle
        /// Headers not complete in time: 408.
        case header
        /// Body not complete in time: 408.
        case body
        /// The peer doesn't take our response: close.
        case write
        /// Done discarding: close.
        case linger
    }

    /// What follows once the bytes being sent are all out.
    enum AfterOutput {
        /// The response is complete and the connection stays open: on to the next request.
        case nextRequest
        /// An interim `100 Continue`: back to reading the same request's body.
        case readMore
        case close
        /// A final error response: read and discard before closing, so the peer gets it intact.
        case linger
    }

    enum Admission {
        /// Counts against `maxConnections`.
        case served
        /// Over the cap: gets a 503 and is closed.
        case turnedAway
    }

    struct State {
        var phase = Phase.reading
        /// When the loop gives up on the phase; nil while a handler or the application holds the request.
        var deadline: ContinuousClock.Instant?
        var expiry = Expiry.idle
        /// The parked or streamed request's responder, which interruptions are reported to.
        var responder: HTTPResponder?
        var stream = StreamOutput()

        /// Marks the connection over; returns the responder that should hear of it, and forgets it (it refers back
        /// to the connection).
        mutating func close() -> HTTPResponder? {
            phase = .closed
            deadline = nil
            stream = StreamOutput()
            defer { responder = nil }
            return responder
        }
    }

    /// How long to read and discard what the peer still sends after our final response; closing with unread input
    /// would make the kernel send a reset that can destroy that response in flight.
    static let lingerTime = Duration.seconds(2)
    static let continueBytes = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    let socket: Socket
    let remoteAddress: String
    /// The epoll token: descriptor and a serial, so an event for a closed descriptor can't reach its successor.
    let token: UInt64
    let admission: Admission
    let loop: EventLoop
    let state: Mutex<State>

    // The owner's fields (see `Phase`).
    var parser: HTTPRequestParser
    var output: [UInt8] = []
    var outputOffset = 0
    var afterOutput = AfterOutput.close
    var idleSince: ContinuousClock.Instant
    var requestStart: ContinuousClock.Instant?
    var bodyStart: ContinuousClock.Instant?

    init(socket: Socket, remoteAddress: String, token: UInt64, admission: Admission, loop: EventLoop) {
        self.socket = socket
        self.remoteAddress = remoteAddress
        self.token = token
        self.admission = admission
        self.loop = loop
        let now = ContinuousClock.now
        idleSince = now
        parser = HTTPRequestParser(
            maxHeaderBytes: loop.configuration.maxHeaderBytes, maxBodyBytes: loop.configuration.maxBodyBytes)
        state = Mutex(State(deadline: now + .seconds(loop.configuration.idleTimeout)))
    }

    /// Moves to a loop-owned phase and arms the descriptor for what that phase waits for. Called by the owner.
    func enter(_ phase: Phase, until deadline: ContinuousClock.Instant, expiry: Expiry, waitingFor interest: Epoll.Interest) {
        let armed = state.withLock { state in
            state.phase = phase
            state.deadline = deadline
            state.expiry = expiry
            return loop.arm(self, for: interest)
        }
        if !armed {
            close()
        }
    }

    /// Hands a request to the handler pool; the thread that takes it owns the connection.
    func dispatch(_ request: HTTPRequest) {
        state.withLock { state in
            state.phase = .handling
            state.deadline = nil
        }
        loop.pool.submit(.serve(self, request))
    }

    /// Ends the connection; the loop frees the descriptor. Called by the owner.
    func close() {
        _ = state.withLock { $0.close() }
        loop.release(self)
    }

    /// The path with controls and spaces escaped, so a request can't forge or split access-log lines.
    static func loggable(_ path: String) -> String {
        // Most paths are plain visible ASCII and go out as they are.
        if !path.isEmpty, path.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return path
        }
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
