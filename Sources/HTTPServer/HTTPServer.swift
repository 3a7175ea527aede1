import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server on POSIX sockets, event-driven (epoll): a loop thread accepts and enforces deadlines, and a
/// bounded set of handler threads serves whichever connection has input, so an idle or slow client costs a
/// descriptor and a small buffer, not a thread.
public final class HTTPServer: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler

    private enum Lifecycle {
        case idle
        case running(EventLoop)
        case shuttingDown
        case stopped
    }

    /// What a `shutdown()` call does: the first one after `start()` does the work, later ones wait for it.
    private enum ShutdownRole {
        case neverStarted
        case owner(EventLoop)
        case waiter
    }

    private let lifecycle = Mutex(Lifecycle.idle)
    private let boundPort = Atomic<UInt16>(0)
    private let stopped = Latch()

    public init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// The bound port (useful with port 0); 0 before `start()`.
    public var port: UInt16 {
        boundPort.load(ordering: .acquiring)
    }

    /// True once `shutdown()` was called.
    public var isShuttingDown: Bool {
        lifecycle.withLock { state in
            switch state {
            case .idle, .running: false
            case .shuttingDown, .stopped: true
            }
        }
    }

    /// Raises the descriptor limit, binds, listens and starts the event loop; returns once connections can be made.
    public func start() throws(HTTPServerError) {
        // Holding the lifecycle lock throughout means a concurrent shutdown() sees either no server or a running one.
        try lifecycle.withLock { (state: inout Lifecycle) throws(HTTPServerError) in
            guard case .idle = state else { throw .alreadyStarted }
            // Our sends use MSG_NOSIGNAL; this keeps a write to a closed socket elsewhere in the process an EPIPE too.
            signal(SIGPIPE, SIG_IGN)
            FileDescriptorLimit.raiseToHardLimit()
            let socket = try Socket.listen(host: configuration.host, port: configuration.port)
            let loop: EventLoop
            do throws(SystemCallError) {
                loop = try EventLoop(configuration: configuration, handler: handler, listener: socket)
            } catch {
                socket.close()
                let address = Socket.display(host: configuration.host, port: configuration.port)
                throw .systemCall(call: "\(error.call)", address: address, errno: error.errno)
            }
            boundPort.store(socket.localPort, ordering: .releasing)
            loop.start()
            state = .running(loop)
        }
    }

    /// Stops accepting at once, lets in-flight requests finish (their responses say `Connection: close`), closes
    /// idle connections, tells deferred and streamed requests (`HTTPInterruption.shuttingDown`), and returns when
    /// all connections are closed or `shutdownGrace` has passed, at which point the rest are force-closed.
    public func shutdown() {
        let role = lifecycle.withLock { (state: inout Lifecycle) -> ShutdownRole in
            switch state {
            case .idle:
                state = .stopped
                return .neverStarted
            case .running(let loop):
                state = .shuttingDown
                return .owner(loop)
            case .shuttingDown, .stopped:
                return .waiter
            }
        }
        switch role {
        case .neverStarted:
            stopped.open()
        case .waiter:
            stopped.wait()
        case .owner(let loop):
            let deadline = Date(timeIntervalSinceNow: configuration.shutdownGrace)
            loop.beginShutdown()
            if !loop.finished.wait(until: deadline) {
                loop.post(.forceClose)
            }
            lifecycle.withLock { $0 = .stopped }
            stopped.open()
        }
    }

    /// Blocks until `shutdown()` has completed.
    public func waitUntilStopped() {
        stopped.wait()
    }
}
