import Foundation

/// The open connections: caps how many are served, lets shutdown wait for them and force them closed.
final class ConnectionRegistry: @unchecked Sendable {
    enum Admission {
        /// Served on its own thread.
        case serve
        /// Over the cap: gets a short 503 on its own thread.
        case reject
        /// So far over the cap that even a 503 would cost too much: closed at once.
        case drop
    }

    /// Bounds the threads spent turning away excess connections.
    private static let maxRejecting = 32

    // Everything below is only touched with `condition` locked, which is what makes the class safe to share.
    private let condition = NSCondition()
    private var open: Set<Socket> = []
    private var serving = 0
    private var rejecting = 0

    func admit(_ socket: Socket, limit: Int) -> Admission {
        condition.lock()
        defer { condition.unlock() }
        if serving < limit {
            serving += 1
            open.insert(socket)
            return .serve
        }
        if rejecting < Self.maxRejecting {
            rejecting += 1
            open.insert(socket)
            return .reject
        }
        return .drop
    }

    /// Forgets the socket, then closes it: after it leaves the set, `forceCloseAll` can't touch a reused descriptor.
    func release(_ socket: Socket, _ admission: Admission) {
        condition.lock()
        open.remove(socket)
        switch admission {
        case .serve: serving -= 1
        case .reject: rejecting -= 1
        case .drop: break
        }
        if open.isEmpty {
            condition.broadcast()
        }
        condition.unlock()
        socket.close()
    }

    /// Whether every connection was released before `deadline`.
    func waitUntilEmpty(before deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !open.isEmpty {
            if !condition.wait(until: deadline) {
                return open.isEmpty
            }
        }
        return true
    }

    /// Shuts down every open socket so their threads' reads and writes fail promptly; returns how many.
    func forceCloseAll() -> Int {
        condition.lock()
        defer { condition.unlock() }
        for socket in open {
            socket.shutdownBoth()
        }
        return open.count
    }
}
