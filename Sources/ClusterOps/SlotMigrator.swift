import ClusterModel
import RESP

/// Moves slots with their keys from one master to another by Redis's protocol: IMPORTING on the target,
/// MIGRATING on the source, keys moved with MIGRATE, then SETSLOT NODE on the target, the source, and every
/// other master. Slots are handled in batches, each phase pipelined: the key names of many slots are fetched in
/// one round trip and their MIGRATEs sent in the next, so a 4096-slot reshard takes a few hundred round trips
/// rather than tens of thousands. How many keys go per round trip adapts to how long the last one took, which
/// keeps big values from blocking the source for long and lets small ones go in bulk.
///
/// Everything is decided from the nodes' live state, not from memory: a move interrupted at any point (the
/// service killed mid-batch) is finished by running it again.
public final class SlotMigrator {
    public enum Outcome: Equatable, Sendable {
        case completed
        case stopped
    }

    let session: ClusterSession
    let options: MigrationOptions
    let observer: any OperationObserver
    /// Shared by every stream of a job, when the job has a throttle.
    let limiter: KeyRateLimiter?
    private var budget: MigrateBudget
    /// Nodes found not answering during the current batch: its cleanup does not wait on them again.
    private var silent: Set<String> = []

    public init(session: ClusterSession, options: MigrationOptions, observer: any OperationObserver,
                limiter: KeyRateLimiter? = nil) {
        self.session = session
        self.options = options
        self.observer = observer
        self.limiter = limiter
        budget = MigrateBudget(keysPerMigrate: options.keysPerMigrate, ceiling: limiter?.batchLimit)
    }

    /// Moves `move.slots` (those the source still owns, or has open towards the target) to the target.
    /// `addresses` maps node ids to host:port; `masters` are the addresses of every master to inform.
    public func run(_ move: SlotMove, addresses: [String: String], masters: [String]) throws(ClusterOpsError) -> Outcome {
        guard let source = addresses[move.from], let target = addresses[move.to] else {
            throw .impossible("slot move names a node that is not in the cluster (\(move.from) → \(move.to))")
        }
        let sourceView = try session.view(source).myself
        let targetView = try session.view(target).myself

        // Slots the target already owns but the source still lists as migrating: only the last SETSLOTs are missing.
        let finishedOnTarget = move.slots.intersection(targetView.slots)
        let dangling = finishedOnTarget.slots.filter { sourceView.migrating[$0] != nil || sourceView.slots.contains($0) }
        if !dangling.isEmpty {
            observer.event("finishing \(dangling.count) slots already owned by the target", node: source)
            try finalize(dangling, move: move, source: source, target: target, masters: masters)
        }

        let remaining = move.slots.intersection(sourceView.slots).subtracting(targetView.slots).slots
        let skipped = move.slots.count - remaining.count - finishedOnTarget.count
        if skipped > 0 {
            observer.event("\(skipped) planned slots are no longer owned by \(source); skipped", node: source)
        }
        var index = 0
        while index < remaining.count {
            if observer.shouldStop() { return .stopped }
            let batch = Array(remaining[index..<min(index + options.slotsPerBatch, remaining.count)])
            // Its keys were reported as they landed.
            _ = try moveBatch(batch, move: move, source: source, target: target, masters: masters)
            observer.slotsMoved(batch.count, keys: 0)
            index += batch.count
        }
        if !remaining.isEmpty {
            observer.event("moved \(remaining.count) slots (\(SlotSet(remaining))) to \(target)", node: source)
        }
        return .completed
    }

    // MARK: - One batch

    private func moveBatch(_ slots: [Int], move: SlotMove, source: String, target: String, masters: [String]) throws(ClusterOpsError) -> Int {
        // Keys the target already holds in these slots are counted in the same round trip that opens them.
        let targetReplies = try session.pipelineAll(
            target, slots.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] } + slots.map { ["CLUSTER", "SETSLOT", "\($0)", "IMPORTING", move.from] },
            idempotent: true)
        let leftovers = targetReplies.prefix(slots.count)
        let replaceSlots: Set<Int>
        do {
            replaceSlots = try checkTargetKeys(zip(slots, leftovers).filter { ($0.1.int ?? 0) > 0 }.map(\.0),
                                               source: source, target: target)
        } catch {
            // Nothing has moved yet: close the batch on the target so no slot is left open.
            settle(slots, ["STABLE"], on: [target])
            throw error
        }
        do {
            // MIGRATING first, then the count: from here on new keys of these slots are created on the target.
            let sourceReplies = try session.pipelineAll(
                source, slots.map { ["CLUSTER", "SETSLOT", "\($0)", "MIGRATING", move.to] } + slots.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] },
                idempotent: true)
            let counts = zip(slots, sourceReplies.suffix(slots.count)).compactMap { slot, count -> (Int, Int)? in
                let keys = Int(count.int ?? 0)
                return keys > 0 ? (slot, keys) : nil
            }
            let moved = try migrateSlots(counts, source: source, target: target, replaceSlots: replaceSlots)
            try finalize(slots, move: move, source: source, target: target, masters: masters)
            return moved
        } catch {
            close(slots, move: move, source: source, target: target)
            throw error
        }
    }

    /// After a failure mid-batch, leaves as few slots open as the nodes allow: a slot whose keys all reached the
    /// target is handed over, one whose keys are all still on the source is closed where it was. A slot with keys
    /// on both sides, or whose keys cannot be counted, stays open for `fix` (or a resumed job) to finish, and an
    /// event says so.
    ///
    /// The failure may be a node that died or froze: each side's keys are counted in one round trip with the
    /// short `cleanupTimeout`, and a node that does not answer is not asked again, so the job reports its failure
    /// within seconds rather than waiting out a timeout per slot.
    private func close(_ slots: [Int], move: SlotMove, source: String, target: String) {
        var silent = self.silent
        defer { self.silent = [] }
        let onSource = counts(slots, on: source, silent: &silent)
        let onTarget = counts(slots, on: target, silent: &silent)
        var handOver: [Int] = []
        var stable: [Int] = []
        var open: [Int] = []
        for (index, slot) in slots.enumerated() {
            if onSource?[index] == 0 && onTarget != nil {
                handOver.append(slot)
            } else if onTarget?[index] == 0 && onSource != nil {
                stable.append(slot)
            } else {
                open.append(slot)
            }
        }
        settle(handOver, ["NODE", move.to], on: [target, source], silent: silent)
        settle(stable, ["STABLE"], on: [target, source], silent: silent)
        if !open.isEmpty {
            let why = silent.isEmpty ? "keys on both \(source) and \(target)" : "\(silent.sorted().joined(separator: " and ")) did not answer"
            observer.event("slots \(SlotSet(open)) left open (\(why)); run fix to finish them", node: source)
        }
    }

    /// How long cleanup and health probes wait for a node: a node that cannot count keys within this is treated
    /// as frozen or dead for the rest of the cleanup.
    var cleanupTimeout: Double { min(session.access.readTimeout, 2) }

    /// COUNTKEYSINSLOT of every slot on `node` in one round trip; nil (and `node` added to `silent`) when it does
    /// not answer in `cleanupTimeout`.
    private func counts(_ slots: [Int], on node: String, silent: inout Set<String>) -> [Int64]? {
        guard !silent.contains(node) else { return nil }
        do {
            let replies = try session.pipelineAll(node, slots.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true,
                                                  readTimeout: cleanupTimeout)
            return replies.map { $0.int ?? -1 }
        } catch {
            silent.insert(node)
            return nil
        }
    }

    /// Cleanup after a failure, whose own error is the one thrown: `CLUSTER SETSLOT <slot> <state>` on each of
    /// `nodes` in turn (those in `silent` skipped: they did not answer), and an event for every node that refused
    /// or could not be reached, since that slot is still open there.
    private func settle(_ slots: [Int], _ state: [String], on nodes: [String], silent: Set<String> = []) {
        guard !slots.isEmpty else { return }
        let commands = slots.map { ["CLUSTER", "SETSLOT", "\($0)"] + state }
        for node in nodes where !silent.contains(node) {
            do {
                for (slot, result) in zip(slots, try session.pipeline(node, commands, idempotent: true, readTimeout: cleanupTimeout)) {
                    if case .failure(let error) = result {
                        observer.event("slot \(slot) left open on \(node) (SETSLOT \(state.joined(separator: " ")) refused: \(error)); "
                                       + "run fix to finish it", node: node)
                    }
                }
            } catch {
                observer.event("slots \(SlotSet(slots)) left open on \(node) (SETSLOT \(state.joined(separator: " ")) failed: \(error)); "
                               + "run fix to finish them", node: node)
            }
        }
    }

    /// SETSLOT NODE on the target first (it takes ownership and bumps its epoch), then the source, then the rest.
    private func finalize(_ slots: [Int], move: SlotMove, source: String, target: String, masters: [String]) throws(ClusterOpsError) {
        let commands = slots.map { ["CLUSTER", "SETSLOT", "\($0)", "NODE", move.to] }
        _ = try session.pipelineAll(target, commands, idempotent: true)
        var refused = unfinalized(try session.pipeline(source, commands, idempotent: true), slots)
        if !refused.isEmpty {
            // A master that gossip has already relieved of its last slots turns itself into the target's replica
            // (Redis 7, cluster-allow-replica-migration) and refuses SETSLOT: for it the hand-over is done.
            let view = try session.view(source).myself
            refused = refused.filter { view.isMaster && view.slots.contains($0) }
        }
        if !refused.isEmpty {
            // The source still holds keys there (written before MIGRATING took effect): move them, then retry.
            for slot in refused {
                _ = try migrateKeys(slot: slot, source: source, target: target, replace: options.replace)
            }
            let retry = refused.map { ["CLUSTER", "SETSLOT", "\($0)", "NODE", move.to] }
            for (slot, result) in zip(refused, try session.pipeline(source, retry, idempotent: true)) {
                if case .failure(let error) = result {
                    throw .failed("slot \(slot): \(source) refuses to hand it to \(target): \(error)")
                }
            }
        }
        for master in masters where master != source && master != target {
            do {
                for (slot, result) in zip(slots, try session.pipeline(master, commands, idempotent: true)) {
                    if case .failure(let error) = result {
                        observer.event("SETSLOT \(slot) NODE on \(master) failed (\(error)); gossip will propagate it", node: master)
                    }
                }
            } catch {
                observer.event("could not tell \(master) about the new owner (\(error)); gossip will propagate it", node: master)
            }
        }
    }

    private func unfinalized(_ results: [Result<RESPValue, RedisError>], _ slots: [Int]) -> [Int] {
        zip(slots, results).compactMap { slot, result in
            if case .failure = result { return slot }
            return nil
        }
    }

    // MARK: - Keys

    /// Empties the source's side of open slots: key names of many slots fetched in one round trip, their
    /// MIGRATEs (one per slot, the slot's keys at most `keysPerMigrate` at a time) sent in the next, until a count
    /// finds every slot empty. `pending` holds slots with their expected key counts; returns the keys moved.
    private func migrateSlots(_ pending: [(slot: Int, keys: Int)], source: String, target: String, replaceSlots: Set<Int>)
        throws(ClusterOpsError) -> Int {
        guard let endpoint = RedisEndpoint(target) else { throw .impossible("bad target address \(target)") }
        var queue = pending[...]
        var moved = 0
        // Bounded: each round moves at least one key or empties a slot; a stubborn source fails the move below.
        for _ in 0..<1_000_000 {
            if queue.isEmpty {
                // Nothing left by the counts so far: check, since a slot whose names came in parts may have more.
                let slots = pending.map(\.slot)
                let counts = try session.pipelineAll(source, slots.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true)
                let left = zip(slots, counts).compactMap { slot, count -> (slot: Int, keys: Int)? in
                    let keys = Int(count.int ?? 0)
                    return keys > 0 ? (slot, keys) : nil
                }
                if left.isEmpty { return moved }
                queue = left[...]
            }
            // Slots for this round: as many as fit the budget (always at least one).
            var round: [(slot: Int, limit: Int)] = []
            var planned = 0
            while let next = queue.first, round.isEmpty
                    || (round.count < Self.migratesPerRound && planned + min(next.keys, budget.keysPerMigrate) <= budget.keysPerRoundTrip) {
                queue.removeFirst()
                let limit = max(1, min(next.keys, budget.keysPerMigrate))
                round.append((next.slot, limit))
                planned += limit
            }
            let names = try session.pipelineAll(source, round.map { ["CLUSTER", "GETKEYSINSLOT", "\($0.slot)", "\($0.limit)"] },
                                                idempotent: true)
            var batches: [(slot: Int, keys: [[UInt8]])] = []
            for ((slot, limit), reply) in zip(round, names) {
                let keys = (reply.array ?? []).compactMap(\.bytes)
                guard !keys.isEmpty else { continue }
                batches.append((slot, keys))
                // A full page may not be the whole slot: look again in a later round.
                if keys.count >= limit { queue.append((slot, limit)) }
            }
            let total = batches.reduce(0) { $0 + $1.keys.count }
            guard total > 0 else { continue }
            limiter?.acquire(total)
            let started = session.now
            let commands = batches.map { batch in
                session.migrateCommand(batch.keys, to: endpoint, options: options,
                                       replace: options.replace || replaceSlots.contains(batch.slot),
                                       timeoutMilliseconds: options.firstMigrateTimeoutMilliseconds)
            }
            let results = try migrate(commands, from: source, timeoutMilliseconds: options.firstMigrateTimeoutMilliseconds)
            budget.record(keys: total, seconds: session.now - started)
            var targetAnswers: Bool?
            var landed = 0
            defer { if landed > 0 { observer.keysLanded(landed) } }
            for (batch, result) in zip(batches, results) {
                switch result {
                case .success:
                    break
                case .failure(let error) where error.isBusyKey:
                    try migrateOneByOne(batch.keys, slot: batch.slot, from: source, to: endpoint, target: target)
                case .failure(.server("IOERR", let message)) where options.firstMigrateTimeoutMilliseconds != nil:
                    // The short first try timed out or lost the target: a target that still answers is slow (a big
                    // value, which it may still be restoring: it gets the read timeout to answer), and gets the long
                    // timeout; one that does not is frozen or dead, and the move stops here.
                    targetAnswers = targetAnswers ?? session.answersPing(target, within: session.access.readTimeout)
                    guard targetAnswers == true else {
                        silent.insert(target)
                        throw .redis(endpoint: source, .server(code: "IOERR", message: message))
                    }
                    // Sent again with REPLACE: a key the target now holds came from the attempt that timed out (a
                    // client only writes to the target keys the source lacks), and comparing copies cannot tell,
                    // since equal big sets and hashes serialize differently on two nodes.
                    try migrate(batch.keys, from: source, to: endpoint, replace: true)
                case .failure(let error):
                    throw .redis(endpoint: source, error)
                }
                moved += batch.keys.count
                landed += batch.keys.count
            }
        }
        throw .failed("keys kept appearing on \(source) while migrating slots \(SlotSet(pending.map(\.slot)))")
    }

    /// Several MIGRATEs in one round trip. Safe to resend: keys that already moved are gone from the source
    /// (MIGRATE answers NOKEY for them), and every slot's keys are counted again before it is handed over.
    private func migrate(_ commands: [[[UInt8]]], from source: String, timeoutMilliseconds: Int? = nil)
        throws(ClusterOpsError) -> [Result<RESPValue, RedisError>] {
        // Each MIGRATE may take up to its own timeout, and the source runs them one after the other.
        let each = Double(timeoutMilliseconds ?? options.migrateTimeoutMilliseconds) / 1000
        let timeout = each * Double(min(commands.count, timeoutMilliseconds == nil ? 4 : Self.migratesPerRound)) + session.access.readTimeout
        return try session.pipeline(source, bytes: commands, idempotent: true, readTimeout: timeout)
    }

    /// MIGRATE commands in one round trip, at most: the source runs them one after the other, blocked while each
    /// waits on the target, so a target that freezes holds the source for this many MIGRATE timeouts.
    static let migratesPerRound = 8

    /// Moves every key of `slot` from source to target; returns how many moved.
    private func migrateKeys(slot: Int, source: String, target: String, replace: Bool) throws(ClusterOpsError) -> Int {
        try migrateSlots([(slot, options.keysPerMigrate)], source: source, target: target, replaceSlots: replace ? [slot] : [])
    }

    private func migrate(_ keys: [[UInt8]], from source: String, to endpoint: RedisEndpoint, replace: Bool) throws(ClusterOpsError) {
        let command = session.migrateCommand(keys, to: endpoint, options: options, replace: replace)
        if case .failure(let error) = try migrate([command], from: source)[0] {
            throw .redis(endpoint: source, error)
        }
    }

    /// A batch hit BUSYKEY: move keys singly, replacing only those whose values are equal on both sides
    /// (or all, when the request said replace).
    private func migrateOneByOne(_ keys: [[UInt8]], slot: Int, from source: String, to endpoint: RedisEndpoint, target: String) throws(ClusterOpsError) {
        var conflicts: [String] = []
        for key in keys {
            do {
                try migrate([key], from: source, to: endpoint, replace: false)
            } catch .redis(_, let error) where error.isBusyKey {
                var replace = options.replace
                if !replace { replace = try sameValue(key, source: source, target: target) }
                if replace {
                    try migrate([key], from: source, to: endpoint, replace: true)
                } else {
                    conflicts.append(String(decoding: key, as: UTF8.self))
                }
            }
        }
        if !conflicts.isEmpty { throw .busyKeys(slot: slot, keys: conflicts) }
    }

    /// Equal serialized values (DUMP) on both sides. The target's copy is read with ASKING: its slot is importing.
    private func sameValue(_ key: [UInt8], source: String, target: String) throws(ClusterOpsError) -> Bool {
        let here = try session.call(source, bytes: [Array("DUMP".utf8), key], idempotent: true)
        let connection = try session.connection(target)
        let there: RESPValue
        do {
            there = try connection.pipeline([[Array("ASKING".utf8)], [Array("DUMP".utf8), key]])[1].get()
        } catch {
            throw .redis(endpoint: target, error)
        }
        return here == there && here != .null
    }

    /// Keys the target already holds in slots it is about to import (leftovers) that the source also holds.
    /// Equal values (or replace:true) are overwritten; different ones fail the job before any key moves.
    /// Returns the slots whose MIGRATEs must use REPLACE.
    private func checkTargetKeys(_ slots: [Int], source: String, target: String) throws(ClusterOpsError) -> Set<Int> {
        var replaceSlots = Set<Int>()
        for slot in slots {
            let reply = try session.call(target, ["CLUSTER", "GETKEYSINSLOT", "\(slot)", "1000"], idempotent: true)
            var conflicts: [String] = []
            var overlap = false
            for key in (reply.array ?? []).compactMap(\.bytes) {
                guard try existsOnSource(key, source: source) else { continue }
                overlap = true
                if options.replace { continue }
                if try !sameValue(key, source: source, target: target) {
                    conflicts.append(String(decoding: key, as: UTF8.self))
                }
            }
            if !conflicts.isEmpty { throw .busyKeys(slot: slot, keys: conflicts) }
            if overlap { replaceSlots.insert(slot) }
        }
        return replaceSlots
    }

    /// A source that is already migrating the slot answers ASK for a key it no longer has: that means absent.
    private func existsOnSource(_ key: [UInt8], source: String) throws(ClusterOpsError) -> Bool {
        do {
            return (try session.call(source, bytes: [Array("EXISTS".utf8), key], idempotent: true).int ?? 0) > 0
        } catch .redis(_, .ask) {
            return false
        }
    }
}
