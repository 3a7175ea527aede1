/// A non-blocking stream socket descriptor; the syscalls live in Socket+Glibc.swift.
struct Socket: Sendable, Hashable {
    let descriptor: Int32

    enum Readiness {
        case ready
        case timedOut
        case failed
    }

    enum ReceiveResult {
        case received(Int)
        case wouldBlock
        case closed
        case failed
    }

    enum AcceptResult {
        case accepted(Socket, remoteAddress: String)
        case none
        case failed(errno: Int32)
    }
}
