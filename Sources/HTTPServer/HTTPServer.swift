import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server on POSIX sockets: one accept thread, and one thread per connection so a slow
/// handler (a long poll, say) never holds up other clients.
public final class HTTPServer: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler

    private enum Lifecycle {
        case idle
        case running
        case shuttingDown
        case stopped
    }

    /// What a `shutdown()` call does: the first one after `start()` does the work, later ones wait for it.
    private enum ShutdownRole {
        case neverStarted
        case owner
        case waiter
    }

    /// Room for handlers that build sizable values; only touched pages are committed.
    private static let threadStackSize = 4 << 20
    /// How long the accept loop waits per poll, bounding how late it can notice shutdown.
    private static let acceptSlice = Duration.milliseconds(250)

    private let lifecycle = Mutex(Lifecycle.idle)
    /// Guarded so shutdown can wake the listener without racing the accept thread closing it.
    private let listener = Mutex<Socket?>(nil)
    private let shuttingDown = Atomic<Bool>(false)
    private let boundPort = Atomic<UInt16>(0)
    private let registry = ConnectionRegistry()
    private let acceptLoopFinished = Latch()
    private let stopped = Latch()

    public init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// The bound port (useful with port 0); 0 before `start()`.
    public var port: UInt16 {
        boundPort.load(ordering: .acquiring)
    }

    public var isShuttingDown: Bool {
        shuttingDown.load(ordering: .acquiring)
    }

    /// Binds, listens and starts the accept thread; returns once connections can be made.
    public func start() throws(HTTPServerError) {
        // Holding the lifecycle lock throughout means a concurrent shutdown() sees either no server or a running one.
        try lifecycle.withLock { (state: inout Lifecycle) throws(HTTPServerError) in
            guard case .idle = state else { throw .alreadyStarted }
            // A peer closing mid-write must cost an EPIPE, not the process.
            signal(SIGPIPE, SIG_IGN)
            let socket = try Socket.listen(host: configuration.host, port: configuration.port)
            listener.withLock { $0 = socket }
            boundPort.store(socket.localPort, ordering: .releasing)
            spawn(name: "http-accept") { self.acceptLoop(socket) }
            state = .running
        }
    }

    /// Stops accepting at once, lets in-flight requests finish (their responses say `Connection: close`),
    /// closes idle connections, and returns when all are done or `shutdownGrace` has passed.
    public func shutdown() {
        let role = lifecycle.withLock { (state: inout Lifecycle) -> ShutdownRole in
            switch state {
            case .idle:
                state = .stopped
                return .neverStarted
            case .running:
                state = .shuttingDown
                return .owner
            case .shuttingDown, .stopped:
                return .waiter
            }
        }
        shuttingDown.store(true, ordering: .releasing)
        switch role {
        case .neverStarted:
            stopped.open()
            return
        case .waiter:
            stopped.wait()
            return
        case .owner:
            break
        }
        let deadline = Date(timeIntervalSinceNow: configuration.shutdownGrace)
        // Shutting the listener down refuses new connections now and wakes the accept thread's poll.
        listener.withLock { $0?.shutdownBoth() }
        acceptLoopFinished.wait()
        if !registry.waitUntilEmpty(before: deadline) {
            let count = registry.forceCloseAll()
            configuration.log("shutdown grace elapsed; closed \(count) connection(s) with requests in flight")
        }
        lifecycle.withLock { $0 = .stopped }
        stopped.open()
    }

    /// Blocks until `shutdown()` has completed.
    public func waitUntilStopped() {
        stopped.wait()
    }

    private func acceptLoop(_ socket: Socket) {
        while !isShuttingDown {
            switch socket.accept(timeout: Self.acceptSlice) {
            case .accepted(let connection, let remoteAddress):
                dispatch(Connection(socket: connection, remoteAddress: remoteAddress, server: self))
            case .none:
                continue
            case .failed(let code):
                // Typically out of descriptors; pausing keeps the loop from spinning until some close.
                if !isShuttingDown {
                    configuration.log("accept failed: \(String(cString: strerror(code))) (errno \(code))")
                    usleep(100_000)
                }
            }
        }
        listener.withLock {
            $0?.close()
            $0 = nil
        }
        acceptLoopFinished.open()
    }

    private func dispatch(_ connection: Connection) {
        let admission = registry.admit(connection.socket, limit: configuration.maxConnections)
        switch admission {
        case .serve:
            spawn(name: "http-connection") {
                connection.serve()
                self.registry.release(connection.socket, admission)
            }
        case .reject:
            spawn(name: "http-reject") {
                connection.turnAway()
                self.registry.release(connection.socket, admission)
            }
        case .drop:
            connection.socket.close()
        }
    }

    private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = Self.threadStackSize
        thread.start()
    }
}
