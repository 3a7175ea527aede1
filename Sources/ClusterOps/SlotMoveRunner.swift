import ClusterModel
import Foundation

/// Carries out a set of slot moves, the one engine behind reshard, rebalance and del-node's drain.
///
/// With `.atomic`, every move is handed to the servers' own migration (all sources at once; Valkey queues one
/// snapshot per node itself, Redis runs one task at a time), and slots that atomic migration gives up on are then
/// moved key by key. Key by key, each source → target pair is split into lanes, each its own stream on its own
/// thread and connections: MIGRATE blocks the source while it runs, so moves from different sources overlap
/// instead of queueing, the target takes keys from all of them at once, and while one lane of a pair waits on the
/// target the other keeps the source busy. A stream that fails stops the others at their next batch boundary.
///
/// A node that dies or freezes mid-move fails the run within a bound: MIGRATE's first try waits
/// `firstMigrateTimeoutMilliseconds` (a sixteenth of the cluster's node timeout, at least 250 ms, unless the caller
/// set it), at most `SlotMigrator.migratesPerRound` of them per round trip, so a frozen target holds the source for
/// at most half the node timeout; any other command waits the read timeout (never twice); cleanup probes wait 2 s.
/// A frozen target thus fails the run within read timeout + 8 first MIGRATE timeouts + 4 s (the job adds one read
/// timeout for the topology it records). The error names the node that stopped answering, and a source whose
/// replica took over names the new master.
public final class SlotMoveRunner {
    let session: ClusterSession
    private(set) var options: MigrationOptions
    let observer: any OperationObserver

    public init(session: ClusterSession, options: MigrationOptions, observer: any OperationObserver) {
        self.session = session
        self.options = options
        self.observer = observer
    }

    /// `addresses` maps node ids to host:port; `masters` are the addresses of every master to inform.
    public func run(_ moves: [SlotMove], method: MigrationMethod, addresses: [String: String], masters: [String])
        throws(ClusterOpsError) -> SlotMigrator.Outcome {
        let nodeTimeout = moves.first.flatMap { addresses[$0.from] }.map(session.nodeTimeoutMilliseconds) ?? 15_000
        if options.firstMigrateTimeoutMilliseconds == nil {
            options.firstMigrateTimeoutMilliseconds = min(options.migrateTimeoutMilliseconds, max(250, nodeTimeout / 16))
        }
        do {
            return try runMoves(moves, method: method, addresses: addresses, masters: masters)
        } catch {
            throw diagnose(error, moves: moves, addresses: addresses, nodeTimeout: nodeTimeout)
        }
    }

    private func runMoves(_ moves: [SlotMove], method: MigrationMethod, addresses: [String: String], masters: [String])
        throws(ClusterOpsError) -> SlotMigrator.Outcome {
        var keyMoves = moves
        if case .atomic(let kind) = method {
            var atomicMoves: [AtomicSlotMigrator.Move] = []
            for move in moves {
                guard let source = addresses[move.from], let target = addresses[move.to] else {
                    throw .impossible("slot move names a node that is not in the cluster (\(move.from) → \(move.to))")
                }
                atomicMoves.append(AtomicSlotMigrator.Move(
                    ends: MigrationEnds(source: move.from, sourceAddress: source, target: move.to, targetAddress: target),
                    slots: move.slots))
            }
            let result = try AtomicSlotMigrator(commands: kind.commands, io: session, observer: observer).run(atomicMoves)
            if result.outcome == .stopped { return .stopped }
            keyMoves = result.leftovers.map { SlotMove(from: $0.ends.source, to: $0.ends.target, slots: $0.slots) }
        }
        return try moveKeys(keyMoves, addresses: addresses, masters: masters)
    }

    /// Key-by-key moves, one stream per source → target pair.
    private func moveKeys(_ moves: [SlotMove], addresses: [String: String], masters: [String]) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        let pairs = Self.lanes(Self.pairs(moves), perPair: options.lanesPerPair, batch: options.slotsPerBatch)
        guard !pairs.isEmpty else { return .completed }
        let limiter = options.maxKeysPerSecond.map { KeyRateLimiter(keysPerSecond: $0) }
        if pairs.count == 1 {
            return try SlotMigrator(session: session, options: options, observer: observer, limiter: limiter)
                .run(pairs[0], addresses: addresses, masters: masters)
        }
        let shared = SynchronizedObserver(observer)
        let streams = StreamResults(count: pairs.count)
        let next = StreamCursor(count: pairs.count)
        let access = session.access
        let options = options
        let group = DispatchGroup()
        for _ in 0..<min(options.streams, pairs.count) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let session = ClusterSession(access: access)
                defer { session.close() }
                while let index = next.take() {
                    let migrator = SlotMigrator(session: session, options: options, observer: shared, limiter: limiter)
                    do throws(ClusterOpsError) {
                        streams.set(index, .success(try migrator.run(pairs[index], addresses: addresses, masters: masters)))
                    } catch {
                        streams.set(index, .failure(error))
                        shared.streamFailed()
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        var outcome = SlotMigrator.Outcome.completed
        for result in streams.all {
            switch result {
            case .failure(let error)?: throw error
            case .success(.stopped)?, nil: outcome = .stopped
            case .success(.completed)?: break
            }
        }
        return outcome
    }

    /// A failed move whose source or target no longer answers PING fails with an error that says so, since the
    /// error of the command that broke (an IOERR from MIGRATE, a refused connection) does not. A source that died
    /// is given a bounded time (twice the node timeout and 5 s, at most 40 s) for a replica to take over, so the
    /// error can name the new master. Any other failure is returned as it is.
    private func diagnose(_ error: ClusterOpsError, moves: [SlotMove], addresses: [String: String], nodeTimeout: Int) -> ClusterOpsError {
        let probe = min(session.access.readTimeout, 2)
        var ends: [(role: String, id: String)] = []
        for move in moves {
            for end in [("source", move.from), ("target", move.to)] where !ends.contains(where: { $0.id == end.1 }) {
                ends.append(end)
            }
        }
        guard let (role, id) = ends.first(where: { end in addresses[end.id].map { !session.answersPing($0, within: probe) } ?? false }),
              let address = addresses[id] else { return error }
        let advice = "run fix (POST /clusters/{id}/fix) to close the slots left open, then submit the move again for the slots "
            + "that did not move"
        if role == "target" {
            return .failed("target \(address) stopped answering during the move (no reply to PING within \(Int(probe)) s). "
                + "Once it is back, or its replica has taken over, \(advice). Cause: \(error)")
        }
        // The slots the dead source still had to give: whoever owns them once a replica takes over is its successor.
        let pending = moves.filter { $0.from == id }.reduce(SlotSet()) { $0.union($1.slots) }
        let wait = min(40, Double(nodeTimeout) * 2 / 1000 + 5)
        var successor: String?
        try? session.waitUntil("a replica of \(address) takes over", timeout: wait) { () throws(ClusterOpsError) -> Bool in
            // Read from every node the move knows, not only the registered seeds: the dead source may be one.
            let topology = session.topology(seeds: Array(Set(addresses.values)).sorted()).0
            successor = topology.masters.first { master in
                master.reachable && master.id != id && !moves.contains { $0.to == master.id }
                    && !master.slots.intersection(pending).isEmpty
            }?.address
            return successor != nil
        }
        if let successor {
            return .failed("source \(address) failed over to \(successor) during the move. R\(advice.dropFirst()). Cause: \(error)")
        }
        return .failed("source \(address) stopped answering during the move and no replica took over within \(Int(wait)) s. "
            + "Once it is back, or a replica has taken over, \(advice). Cause: \(error)")
    }

    /// Each pair's slots split into up to `perPair` lanes of whole batches, each its own stream: while one lane
    /// waits on the target (opening, handing over), the other keeps the source busy with MIGRATEs.
    static func lanes(_ pairs: [SlotMove], perPair: Int, batch: Int) -> [SlotMove] {
        pairs.flatMap { pair -> [SlotMove] in
            let slots = pair.slots.ranges.flatMap { Array($0) }
            let count = min(max(1, perPair), max(1, slots.count / max(1, batch)))
            guard count > 1 else { return [pair] }
            let size = (slots.count + count - 1) / count
            return stride(from: 0, to: slots.count, by: size).map { start in
                SlotMove(from: pair.from, to: pair.to, slots: SlotSet(slots[start..<min(start + size, slots.count)]))
            }
        }
    }

    /// Moves merged per source → target pair, in first-seen order.
    static func pairs(_ moves: [SlotMove]) -> [SlotMove] {
        var merged: [SlotMove] = []
        for move in moves where !move.slots.isEmpty {
            if let index = merged.firstIndex(where: { $0.from == move.from && $0.to == move.to }) {
                merged[index].slots = merged[index].slots.union(move.slots)
            } else {
                merged.append(move)
            }
        }
        return merged
    }
}

/// Each stream's result, written by its thread and read once all have joined.
private final class StreamResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<SlotMigrator.Outcome, ClusterOpsError>?]

    init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<SlotMigrator.Outcome, ClusterOpsError>) {
        lock.withLock { results[index] = result }
    }

    var all: [Result<SlotMigrator.Outcome, ClusterOpsError>?] { lock.withLock { results } }
}

/// Hands out the pairs to the stream threads, each once.
private final class StreamCursor: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) {
        self.count = count
    }

    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}
