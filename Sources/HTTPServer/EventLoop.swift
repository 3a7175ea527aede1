import Foundation
import Glibc
import Synchronization

/// The one thread that waits on epoll: it accepts, reads requests, sends what handler threads couldn't, and
/// enforces the deadlines. Handlers run on `pool`; connections pass between the two as `Connection` describes.
final class EventLoop: @unchecked Sendable {
    /// What other threads ask of the loop.
    enum Command {
        /// The connection is over: free its descriptor.
        case release(Connection)
        case beginShutdown
        case forceClose
    }

    /// Commands for the loop, and whether it still takes them (its wake-up descriptor is closed once it stops).
    private struct Mailbox {
        var commands: [Command] = []
        var isOpen = true
    }

    /// How often deadlines are checked, which bounds how late a timeout fires.
    static let tick = Duration.milliseconds(100)
    private static let maxEvents = 512

    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    let pool: HandlerPool
    let epoll: Epoll
    let wakeup: LoopWakeup
    /// Opens once the loop has stopped and every connection is closed.
    let finished = Latch()
    private let shuttingDown = Atomic<Bool>(false)
    private let mailbox = Mutex(Mailbox())
    /// The loop thread's pthread_t, so `release` knows whether it can free a descriptor directly.
    private let loopThread = Atomic<UInt>(0)

    // Only the loop thread touches what follows; the extensions use it too.
    var listener: Socket?
    let listenerToken: UInt64
    let wakeupToken: UInt64
    /// Indexed by descriptor.
    var connections: [Connection?] = []
    var served = 0
    var turningAway = 0
    var serial: UInt32 = 0
    /// Where every read lands before the parser copies it, so an idle connection holds no read buffer of its own.
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    /// Set while accepting is paused for lack of descriptors.
    var acceptResumes: ContinuousClock.Instant?
    var stopping = false
    private var drained: [Command] = []
    private var nextSweep = ContinuousClock.now

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler, listener: Socket) throws(SystemCallError) {
        let epoll = try Epoll.make()
        let wakeup: LoopWakeup
        do {
            wakeup = try LoopWakeup.make()
        } catch {
            epoll.close()
            throw error
        }
        do {
            // Tokens with serial 0, which no connection gets.
            try epoll.watch(listener.descriptor, token: UInt64(UInt32(bitPattern: listener.descriptor)), for: .input)
            try epoll.watch(wakeup.descriptor, token: UInt64(UInt32(bitPattern: wakeup.descriptor)), for: .input)
        } catch {
            epoll.close()
            wakeup.close()
            throw error
        }
        self.configuration = configuration
        self.handler = handler
        self.epoll = epoll
        self.wakeup = wakeup
        self.listener = listener
        listenerToken = UInt64(UInt32(bitPattern: listener.descriptor))
        wakeupToken = UInt64(UInt32(bitPattern: wakeup.descriptor))
        pool = HandlerPool(threads: configuration.handlerThreads)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "http-loop"
        thread.start()
    }

    var isShuttingDown: Bool {
        shuttingDown.load(ordering: .acquiring)
    }

    /// Handlers answer `Connection: close` from now on; the loop stops accepting and closes idle connections.
    func beginShutdown() {
        shuttingDown.store(true, ordering: .releasing)
        post(.beginShutdown)
    }

    /// Queues a command; ignored once the loop has stopped (there is nothing left for it to act on).
    func post(_ command: Command) {
        mailbox.withLock { mailbox in
            guard mailbox.isOpen else { return }
            mailbox.commands.append(command)
            // One wake-up per batch: the loop takes every queued command when it wakes. Signalled under the lock so
            // the loop can't close the descriptor in between.
            if mailbox.commands.count == 1 {
                wakeup.signal()
            }
        }
    }

    /// Frees the connection's descriptor now on the loop thread, or asks the loop to. The connection must be closed.
    func release(_ connection: Connection) {
        if pthread_equal(pthread_self(), pthread_t(loopThread.load(ordering: .acquiring))) != 0 {
            remove(connection)
        } else {
            post(.release(connection))
        }
    }

    /// Re-arms the connection's one-shot registration; false if epoll refused, i.e. the descriptor is gone.
    func arm(_ connection: Connection, for interest: Epoll.Interest) -> Bool {
        do {
            try epoll.rearm(connection.socket.descriptor, token: connection.token, for: interest)
            return true
        } catch {
            return false
        }
    }

    /// Loop thread: reads into the scratch buffer and hands what came to `parser`; `.done(0)` is end of input.
    func receive(from socket: Socket, into parser: inout HTTPRequestParser) throws(SystemCallError) -> IOResult<Int> {
        let received = try receive(from: socket)
        if case .done(let count) = received, count > 0 {
            parser.append(scratch[..<count])
        }
        return received
    }

    /// Loop thread: reads into the scratch buffer, for input that is only discarded.
    func receive(from socket: Socket) throws(SystemCallError) -> IOResult<Int> {
        try scratch.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemCallError) in try socket.receive(into: buffer) }
        }.get()
    }

    /// Loop thread: forgets the connection and closes its descriptor, unless that already happened.
    func remove(_ connection: Connection) {
        let index = Int(connection.socket.descriptor)
        guard index < connections.count, connections[index] === connection else { return }
        connections[index] = nil
        switch connection.admission {
        case .served: served -= 1
        case .turnedAway: turningAway -= 1
        }
        connection.socket.close()
    }

    private func run() {
        loopThread.store(UInt(pthread_self()), ordering: .releasing)
        var buffer = [UInt8](repeating: 0, count: Self.maxEvents * Epoll.eventSize)
        var events: [Epoll.Event] = []
        events.reserveCapacity(Self.maxEvents)
        while !stopping || served + turningAway > 0 {
            let busy = served + turningAway > 0 || stopping || acceptResumes != nil
            do {
                try epoll.wait(into: &buffer, events: &events, timeout: busy ? Self.tick : nil)
            } catch {
                configuration.log("event loop: \(error)")
            }
            for event in events {
                dispatch(event)
            }
            let now = ContinuousClock.now
            if now >= nextSweep {
                sweep(now)
                nextSweep = now + Self.tick
            }
        }
        mailbox.withLock { $0.isOpen = false }
        epoll.close()
        wakeup.close()
        pool.stop()
        finished.open()
    }

    private func dispatch(_ event: Epoll.Event) {
        if event.token == listenerToken {
            acceptConnections()
        } else if event.token == wakeupToken {
            wakeup.drain()
            runCommands()
        } else {
            let index = Int(UInt32(truncatingIfNeeded: event.token))
            guard index < connections.count, let connection = connections[index], connection.token == event.token
            else { return }
            connection.handle(event)
        }
    }

    private func runCommands() {
        mailbox.withLock { swap(&$0.commands, &drained) }
        for command in drained {
            switch command {
            case .release(let connection): remove(connection)
            case .beginShutdown: shutDownConnections()
            case .forceClose: forceCloseConnections()
            }
        }
        drained.removeAll(keepingCapacity: true)
    }
}
