/// An epoll instance (Epoll+Glibc.swift). Several threads may wait on one, and any thread may re-arm a registration,
/// since epoll_ctl is safe to call concurrently with epoll_wait.
struct Epoll: Sendable {
    let descriptor: Int32

    /// What a registration waits for. Connections are always registered one-shot: an event disarms the descriptor
    /// and goes to one waiting thread, which claims the connection and re-arms it when done.
    struct Interest: OptionSet, Sendable {
        let rawValue: UInt32

        static let input = Interest(rawValue: 0x001)  // EPOLLIN
        static let output = Interest(rawValue: 0x004)  // EPOLLOUT
        static let peerClose = Interest(rawValue: 0x2000)  // EPOLLRDHUP
    }

    /// One readiness report: the token given at registration and what happened.
    struct Event {
        let token: UInt64
        let flags: UInt32

        var isWritable: Bool { flags & Interest.output.rawValue != 0 }

        /// The peer closed (or reset) its side: EPOLLRDHUP, EPOLLHUP or EPOLLERR.
        var isHangup: Bool { flags & (Interest.peerClose.rawValue | 0x010 | 0x008) != 0 }
    }
}
