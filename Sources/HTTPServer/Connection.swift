import Synchronization

/// One accepted connection: its parser, the response on its way out, and who is in charge of it right now.
///
/// A connection is either waiting (for epoll, for a deadline, or for the application) or claimed by exactly one
/// thread, which alone acts on it: `state.phase` is `.handling` then. Whoever is woken for a waiting connection (an
/// epoll event on a handler thread, a deadline or shutdown on the loop) claims it under `state`'s lock first, and the
/// claimant is the only thread to touch the fields outside `state`. It gives the connection up again under the same
/// lock, re-arming the descriptor there, so a hand-off can't race the readiness it waits for, and no descriptor is
/// freed while another thread uses it.
final class Connection: @unchecked Sendable {
    enum Phase {
        /// Waiting for a request or the rest of one; armed for input.
        case reading
        /// Claimed by one thread: a handler thread serving an event or a request, the loop firing a deadline or
        /// shutting down, or the thread that answered a deferred request. Nothing is armed unless it armed it.
        case handling
        /// Waiting for room to send the rest of a response; armed for output.
        case writing
        /// The application holds the request's responder; only the peer closing is watched for.
        case parked
        /// A streamed body: writers queue bytes and send them under the lock; epoll reports the peer closing and
        /// room in the socket.
        case streaming
        /// After a final response: discarding input until the peer closes or the time is up; armed for input.
        case lingering
        /// Over: the descriptor is freed, and every later call is a no-op.
        case closed

        /// The phases whose deadline the loop enforces, and whose connection an epoll event hands to a thread.
        var isClaimable: Bool {
            self == .reading || self == .writing || self == .lingering
        }
    }

    /// What happens when `State.deadline` passes.
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
        /// When the loop gives up on a claimable phase; ignored in the others.
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

    // The claimant's fields.
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
        // A turned-away connection starts out claimed by the loop, which sends it the 503.
        state = Mutex(
            State(phase: admission == .served ? .reading : .handling, deadline: now + .seconds(loop.configuration.idleTimeout)))
    }

    /// Gives the connection up to wait in `phase`, armed for what that phase waits for. Called by the claimant.
    func enter(_ phase: Phase, until deadline: ContinuousClock.Instant, expiry: Expiry, waitingFor interest: Epoll.Interest) {
        _ = state.withLock { state in
            state.deadline = deadline
            state.expiry = expiry
            return wait(in: phase, for: interest, &state)
        }
    }

    /// Gives the connection up to wait in `phase` again, keeping its deadline. Called by the claimant.
    func resume(_ phase: Phase, waitingFor interest: Epoll.Interest) {
        _ = state.withLock { wait(in: phase, for: interest, &$0) }
    }

    /// Claims the connection if it waits in `phase`.
    func claim(waitingIn phase: Phase) -> Bool {
        state.withLock { state in
            guard state.phase == phase else { return false }
            state.phase = .handling
            return true
        }
    }

    /// Loop: claims the connection if it waits in a claimable phase whose deadline has passed.
    func claimExpired(at now: ContinuousClock.Instant) -> Expiry? {
        state.withLock { state in
            guard state.phase.isClaimable, let deadline = state.deadline, deadline <= now else { return nil }
            state.phase = .handling
            return state.expiry
        }
    }

    /// Under the lock, so that no other thread can claim the connection before it is armed, or closed if epoll
    /// refuses (the descriptor is gone); returns the responder to tell then. Only a parked or streamed request has
    /// one: the claimant's phases have none.
    func wait(in phase: Phase, for interest: Epoll.Interest, _ state: inout State) -> HTTPResponder? {
        guard loop.arm(self, for: interest) else { return close(&state) }
        state.phase = phase
        return nil
    }

    /// Under the lock: ends the connection and frees its descriptor; returns the responder that should hear of it.
    func close(_ state: inout State) -> HTTPResponder? {
        let responder = state.close()
        loop.release(self)
        return responder
    }

    /// Ends the connection and frees its descriptor. Called by the claimant.
    func close() {
        _ = state.withLock { close(&$0) }
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
