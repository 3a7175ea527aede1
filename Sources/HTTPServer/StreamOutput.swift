/// The queued body of a streamed response, kept in the connection's locked state.
struct StreamOutput {
    /// A peer that leaves this much unread has stopped reading: the stream is closed rather than buffered further.
    static let limit = 1 << 20

    var bytes: [UInt8] = []
    /// How much of `bytes` is sent.
    var offset = 0
    var finished = false
    /// HEAD, or a status without a body: writes are accepted and dropped.
    var discardsBody = false
    /// The socket was full; the rest goes when epoll reports room.
    var waitingForRoom = false
    /// What the one-shot registration is armed with, or nil once an event used it up; spares a re-arm per write.
    var armed: Epoll.Interest?

    var pending: Int { bytes.count - offset }

    /// Drops what is sent, rarely enough that a steady trickle of writes doesn't shift the buffer each time.
    mutating func compact() {
        if offset == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            offset = 0
        } else if offset >= 64 * 1024, offset * 2 >= bytes.count {
            bytes.removeFirst(offset)
            offset = 0
        }
    }
}
