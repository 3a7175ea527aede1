/// The body of a streamed response (e.g. Server-Sent Events). Thread-safe.
public final class HTTPStreamWriter: Sendable {
    let connection: Connection

    init(connection: Connection) {
        self.connection = connection
    }

    /// Sends what the socket takes now and queues the rest; never blocks. Returns false once the stream is over (peer gone, finished,
    /// or the peer stopped reading and more than 1 MiB is queued: then the connection is closed).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        connection.writeStream(bytes)
    }

    /// Ends the body; the connection closes after the queued bytes are sent.
    public func finish() {
        connection.finishStream()
    }
}
