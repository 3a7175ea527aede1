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
public final class SlotMoveRunner {
    let session: ClusterSession
    let options: MigrationOptions
    let observer: any OperationObserver

    public init(session: ClusterSession, options: MigrationOptions, observer: any OperationObserver) {
        self.session = session
        self.options = options
        self.observer = observer
    }

    /// `addresses` maps node ids to host:port; `masters` are the addresses of every master to inform.
    public func run(_ moves: [SlotMove], method: MigrationMethod, addresses: [String: String], masters: [String])
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
