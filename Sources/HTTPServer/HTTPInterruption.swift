/// Why a deferred or streamed request can no longer be answered normally (see `HTTPResponder.onInterrupt`).
public enum HTTPInterruption: Sendable {
    /// The client went away, or stopped reading a stream: further respond and write calls are no-ops.
    case peerClosed
    /// The server is stopping: answer now, or end the stream; after `shutdownGrace` the connection is force-closed.
    case shuttingDown
}
