import Foundation
import Glibc
import Synchronization

/// The server's threads and descriptors. The loop thread accepts, enforces the deadlines and carries out shutdown;
/// handler threads wait on the connections' epoll and each serves the connection it is woken for: reads, parses, runs
/// the handler and sends the response on the same thread, with no hand-off in between. Connections are registered
/// one-shot, so an event reaches one thread, which then owns the connection (see `Connection`). How many handler
/// threads wait on epoll at once is `HandlerThreads`' call.
final class EventLoop: @unchecked Sendable {
    /// What other threads ask of the loop thread.
    enum Command {
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
    /// How often the loop looks for blocked handler threads while requests are in flight.
    private static let supervisionTick = Duration.milliseconds(10)
    private static let maxLoopEvents = 64
    /// Room for handlers that build sizable values; only touched pages are committed.
    private static let threadStackSize = 4 << 20

    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    /// The connections' epoll, which the handler threads wait on.
    let epoll: Epoll
    let jobs: JobQueue
    let table = Mutex(ConnectionTable())
    let threads: HandlerThreads
    /// Opens once the loop has stopped and every connection is closed.
    let finished = Latch()
    /// The loop thread's own epoll: the listener and the mailbox.
    let control: Epoll
    private let wakeup: EventFD
    /// Readable once the handler threads are to exit.
    private let stopSignal: EventFD
    private let runningWorkers = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    private let mailbox = Mutex(Mailbox())

    // Only the loop thread touches what follows; the extensions use it too.
    var listener: Socket?
    let listenerToken: UInt64
    private let wakeupToken: UInt64
    /// Set while accepting is paused for lack of descriptors.
    var acceptResumes: ContinuousClock.Instant?
    var stopping = false
    private var drained: [Command] = []
    private var nextSweep = ContinuousClock.now

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler, listener: Socket) throws(SystemCallError) {
        var opened: [Int32] = []
        do throws(SystemCallError) {
            control = try Epoll.make()
            opened.append(control.descriptor)
            epoll = try Epoll.make()
            opened.append(epoll.descriptor)
            wakeup = try EventFD.make()
            opened.append(wakeup.descriptor)
            stopSignal = try EventFD.make()
            opened.append(stopSignal.descriptor)
            let announcer = try EventFD.make()
            opened.append(announcer.descriptor)
            jobs = JobQueue(announcer: announcer)
            listenerToken = Self.token(listener.descriptor)
            wakeupToken = Self.token(wakeup.descriptor)
            try control.watch(listener.descriptor, token: listenerToken, for: .input)
            try control.watch(wakeup.descriptor, token: wakeupToken, for: .input)
            try epoll.watch(stopSignal.descriptor, token: Self.token(stopSignal.descriptor), for: .input)
            try epoll.watch(announcer.descriptor, token: Self.token(announcer.descriptor), for: .input)
        } catch {
            for descriptor in opened {
                close(descriptor)
            }
            throw error
        }
        self.configuration = configuration
        self.handler = handler
        self.listener = listener
        threads = HandlerThreads(total: max(1, configuration.handlerThreads))
    }

    func start() {
        runningWorkers.store(threads.total, ordering: .relaxed)
        for index in 0..<threads.total {
            let thread = Thread { [self] in serveConnections() }
            thread.name = "http-handler-\(index)"
            thread.stackSize = Self.threadStackSize
            thread.start()
        }
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
            // Signalled under the lock so the loop can't close the descriptor in between.
            if mailbox.commands.count == 1 {
                wakeup.signal()
            }
        }
    }

    /// Forgets a closed connection and frees its descriptor, unless that already happened. Any thread may call it,
    /// once the connection's phase is `.closed`: after that no other thread touches the descriptor.
    func release(_ connection: Connection) {
        if table.withLock({ $0.remove(connection) }) {
            connection.socket.close()
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

    /// A handler thread: waits for one event at a time (so a handler that blocks holds up no other connection's
    /// event) and serves it, or waits as a spare while `threads` doesn't need it.
    private func serveConnections() {
        defer { leave() }
        guard threads.enlist() else { return }
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        var buffer = [UInt8](repeating: 0, count: Epoll.eventSize)
        var events: [Epoll.Event] = []
        let stopToken = Self.token(stopSignal.descriptor)
        let jobsToken = Self.token(jobs.announcer.descriptor)
        waiting: while true {
            do {
                try epoll.wait(into: &buffer, events: &events, timeout: nil)
            } catch {
                configuration.log("handler thread: \(error)")
            }
            for event in events {
                if event.token == stopToken {
                    break waiting
                }
                threads.beginServing()
                switch event.token {
                case jobsToken:
                    switch jobs.take() {
                    case .serve(let connection, let request): connection.serve(request)
                    case .run(let body): body()
                    case nil: break
                    }
                default:
                    table.withLock { $0.connection(for: event.token) }?.handle(event, scratch: &scratch)
                }
                guard threads.endServing() else { break waiting }
            }
        }
    }

    /// The last handler thread out closes what they all waited on.
    private func leave() {
        if runningWorkers.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            epoll.close()
            stopSignal.close()
            jobs.announcer.close()
        }
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: Self.maxLoopEvents * Epoll.eventSize)
        var events: [Epoll.Event] = []
        while true {
            let isEmpty = table.withLock { $0.isEmpty }
            if stopping, isEmpty {
                break
            }
            let busy = !isEmpty || stopping || acceptResumes != nil
            let timeout = threads.isServing ? Self.supervisionTick : busy ? Self.tick : nil
            do {
                try control.wait(into: &buffer, events: &events, timeout: timeout)
            } catch {
                configuration.log("event loop: \(error)")
            }
            for event in events {
                if event.token == listenerToken {
                    acceptConnections()
                } else if event.token == wakeupToken {
                    wakeup.drain()
                    runCommands()
                }
            }
            threads.supervise()
            let now = ContinuousClock.now
            if now >= nextSweep {
                sweep(now)
                nextSweep = now + Self.tick
            }
        }
        mailbox.withLock { $0.isOpen = false }
        control.close()
        wakeup.close()
        stopSignal.signal()
        threads.stop()
        finished.open()
    }

    private func runCommands() {
        mailbox.withLock { swap(&$0.commands, &drained) }
        for command in drained {
            switch command {
            case .beginShutdown: shutDownConnections()
            case .forceClose: forceCloseConnections()
            }
        }
        drained.removeAll(keepingCapacity: true)
    }

    /// The token of one of the loop's own descriptors: serial 0, which no connection gets.
    private static func token(_ descriptor: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: descriptor))
    }
}
