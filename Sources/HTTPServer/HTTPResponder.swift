import Synchronization

/// One request's pending answer. Thread-safe; every method may be called from any thread.
public final class HTTPResponder: Sendable {
    private struct Interruptions {
        var occurred: HTTPInterruption?
        var handler: (@Sendable (HTTPInterruption) -> Void)?
        /// Answered: interruptions no longer concern the application.
        var settled = false
    }

    let connection: Connection
    let context: RequestContext
    private let interruptions = Mutex(Interruptions())

    init(connection: Connection, context: RequestContext) {
        self.connection = connection
        self.context = context
    }

    public var requestID: String { context.requestID }

    /// Sends a complete response. Only the first respond/openStream counts; later calls return false,
    /// as do calls after the connection closed.
    @discardableResult
    public func respond(_ response: HTTPResponse) -> Bool {
        guard connection.unpark(for: self) else { return false }
        settle()
        var response = response
        if response.deferral != nil {
            connection.loop.configuration.log("request \(requestID): respond(_:) was given a deferred response")
            response = .problem(HTTPError(500, "internal error (request \(requestID))"))
        }
        // This thread has claimed the connection; a request pipelined behind goes to a handler thread.
        if let next = connection.send(response, for: context) {
            connection.loop.jobs.submit(.serve(connection, next))
        }
        return true
    }

    /// Sends the head of a streamed response: no Content-Length, `Connection: close`, body delimited by the end of the
    /// connection (the server closes it after `finish()` once all queued bytes are out). nil when already answered or closed.
    public func openStream(status: Int, headers: HTTPHeaders) -> HTTPStreamWriter? {
        guard connection.openStream(for: self, status: status, headers: headers) else { return nil }
        return HTTPStreamWriter(connection: connection)
    }

    /// Called once, on any thread, when the request can no longer be answered normally:
    /// `.peerClosed` (client went away: further respond/write calls are no-ops) or `.shuttingDown` (the server is
    /// stopping: answer now, or end the stream; after shutdownGrace the connection is force-closed).
    /// If the condition already holds when registered, the handler is called at once.
    ///
    /// A stream whose client stops reading (more than `StreamOutput.limit` queued) is closed and reported as
    /// `.peerClosed`. A later registration replaces an earlier one that has not been called.
    public func onInterrupt(_ handler: @escaping @Sendable (HTTPInterruption) -> Void) {
        let occurred = interruptions.withLock { state -> HTTPInterruption? in
            guard !state.settled else { return nil }
            if let occurred = state.occurred {
                return occurred
            }
            state.handler = handler
            return nil
        }
        if let occurred {
            handler(occurred)
        }
    }

    /// Reports an interruption once, on a handler thread, so the caller (the loop, or a thread holding a connection's
    /// claim) never runs application code.
    func interrupt(_ interruption: HTTPInterruption) {
        let handler = interruptions.withLock { state -> (@Sendable (HTTPInterruption) -> Void)? in
            guard !state.settled, state.occurred == nil else { return nil }
            state.occurred = interruption
            defer { state.handler = nil }
            return state.handler
        }
        if let handler {
            connection.loop.jobs.submit(.run { handler(interruption) })
        }
    }

    /// The request is answered; drops the handler, which may hold on to application state.
    func settle() {
        interruptions.withLock { state in
            state.settled = true
            state.handler = nil
        }
    }
}
