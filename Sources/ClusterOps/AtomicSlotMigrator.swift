import ClusterModel
import RESP

/// Moves slots with the servers' own atomic migration (Valkey 9 `CLUSTER MIGRATESLOTS`, Redis 8.4
/// `CLUSTER MIGRATION`): the server copies a snapshot of the slots and the writes made meanwhile, pauses writes for
/// an instant and hands ownership over in one step, so clients never see ASK, a half-moved slot or a missing key.
///
/// Everything is read back from the nodes: ownership from `CLUSTER NODES`, each migration's state from the nodes'
/// migration logs. A job resumed after the service was killed attaches to the migrations still running and starts
/// only what is neither done nor under way. A migration that fails is started again after a pause (the servers do
/// not retry on their own); after `attempts` failures its slots are handed back to the caller, which moves them key
/// by key, the path that still works when heavy writes make every atomic attempt fail.
public final class AtomicSlotMigrator {
    /// Slots to move from one master to another.
    public struct Move: Sendable, Equatable {
        public var ends: MigrationEnds
        public var slots: SlotSet

        public init(ends: MigrationEnds, slots: SlotSet) {
            self.ends = ends
            self.slots = slots
        }
    }

    public struct Result: Sendable, Equatable {
        public var outcome: SlotMigrator.Outcome
        /// Slots that atomic migration gave up on: still with their source, to be moved key by key.
        public var leftovers: [Move]
    }

    /// One migration this run started or found running.
    private struct Task {
        var move: Move
        var id: String?
        /// Ids the nodes listed before this task was started: the task is the new entry that matches it.
        var knownIds: Set<String>
        var startedAt: Double
        var attempt: Int
        var keys: Int
        var state: String?
        /// When the nodes last reported a new state for it.
        var changedAt: Double = 0
    }

    /// Slots waiting to be started, not before `notBefore`.
    private struct Pending {
        var move: Move
        var attempt: Int
        var notBefore: Double
    }

    let commands: any AtomicMigrationProtocol
    let io: any MigrationNodeIO
    let observer: any OperationObserver
    /// Starts per migration before its slots fall back to key-by-key moves.
    let attempts: Int
    /// Pause before the n-th restart: backoff × 2^(n-1).
    let backoff: Double
    let pollInterval: Double
    /// A started migration that no node lists after this long never began.
    let unseenTimeout: Double
    /// A migration whose state has not changed for this long is stuck: it is cancelled and counts as failed.
    let stallTimeout: Double

    public init(commands: any AtomicMigrationProtocol, io: any MigrationNodeIO, observer: any OperationObserver,
                attempts: Int = 3, backoff: Double = 1, pollInterval: Double = 0.02, unseenTimeout: Double = 5,
                stallTimeout: Double = 30) {
        self.commands = commands
        self.io = io
        self.observer = observer
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.pollInterval = pollInterval
        self.unseenTimeout = unseenTimeout
        self.stallTimeout = stallTimeout
    }

    private var running: [Task] = []
    private var pending: [Pending] = []
    private var leftovers: [Move] = []
    /// Each reporter's latest list, by address.
    private var reports: [String: [AtomicMigrationStatus]] = [:]

    public func run(_ moves: [Move]) throws(ClusterOpsError) -> Result {
        running = []
        pending = []
        leftovers = []
        reports = [:]
        for move in moves {
            try prepare(move)
        }
        // Bounded: every round either waits for a server (each migration ends or fails within the server's own
        // timeouts, and a vanished one is failed after `unseenTimeout`) or starts one of finitely many attempts.
        while !running.isEmpty || !pending.isEmpty {
            if observer.shouldStop() {
                try cancelRunning()
                return Result(outcome: .stopped, leftovers: [])
            }
            try startDue()
            io.pause(pollInterval)
            try poll()
        }
        return Result(outcome: .completed, leftovers: leftovers)
    }

    // MARK: - Starting

    /// What is left of a planned move, given the nodes' live state: slots the target already owns are done,
    /// slots under a migration that is still running are attached to, the rest wait to be started.
    private func prepare(_ move: Move) throws(ClusterOpsError) {
        let onTarget = move.slots.intersection(try ownedSlots(move.ends.targetAddress))
        var remaining = move.slots.intersection(try ownedSlots(move.ends.sourceAddress)).subtracting(onTarget)
        let gone = move.slots.subtracting(onTarget).subtracting(remaining)
        if !gone.isEmpty {
            observer.event("\(gone.count) planned slots (\(gone)) are no longer owned by \(move.ends.sourceAddress); skipped",
                           node: move.ends.sourceAddress)
        }
        for status in try activeMigrations(move.ends) where !status.slots.intersection(remaining).isEmpty {
            let slots = status.slots.intersection(remaining)
            observer.event("\(commands.kind.command) \(status.id) of slots \(slots) is under way (\(status.state)); following it",
                           node: move.ends.sourceAddress)
            running.append(Task(move: Move(ends: move.ends, slots: slots), id: status.id, knownIds: [], startedAt: io.now,
                                attempt: 1, keys: try countKeys(move.ends.sourceAddress, slots), state: status.state,
                                changedAt: io.now))
            remaining = remaining.subtracting(slots)
        }
        if !remaining.isEmpty {
            pending.append(Pending(move: Move(ends: move.ends, slots: remaining), attempt: 1, notBefore: 0))
        }
    }

    /// Migrations between the two ends that a node reports as still running.
    private func activeMigrations(_ ends: MigrationEnds) throws(ClusterOpsError) -> [AtomicMigrationStatus] {
        var found: [String: AtomicMigrationStatus] = [:]
        for address in commands.reporters(ends) {
            guard let statuses = try? readStatuses(address) else { continue }
            for status in statuses where status.phase == .active && found[status.id] == nil
                && (status.source ?? ends.source) == ends.source && (status.target ?? ends.target) == ends.target {
                found[status.id] = status
            }
        }
        return found.values.sorted { $0.id < $1.id }
    }

    /// Starts every pending migration whose time has come (one at a time where the server allows only one), all
    /// close together: their slots' keys counted and the nodes' logs read first, then the start commands.
    private func startDue() throws(ClusterOpsError) {
        let now = io.now
        var due: [Pending] = []
        var index = 0
        while index < pending.count {
            if commands.oneAtATime && (!running.isEmpty || !due.isEmpty) { break }
            if pending[index].notBefore <= now {
                due.append(pending.remove(at: index))
            } else {
                index += 1
            }
        }
        guard !due.isEmpty else { return }
        // Whatever the nodes list now is not one of these migrations: each is the entry that appears after its start.
        var known = Set<String>()
        var read = Set<String>()
        for item in due {
            for address in commands.reporters(item.move.ends) where read.insert(address).inserted {
                known.formUnion((try? readStatuses(address))?.map(\.id) ?? [])
            }
        }
        var counts: [Int] = []
        for item in due {
            counts.append(try countKeys(item.move.ends.sourceAddress, item.move.slots))
        }
        for (item, keys) in zip(due, counts) {
            try start(item, knownIds: known, keys: keys)
        }
    }

    private func start(_ item: Pending, knownIds known: Set<String>, keys: Int) throws(ClusterOpsError) {
        let ends = item.move.ends
        let (address, command) = commands.start(item.move.slots, ends)
        var task = Task(move: item.move, id: nil, knownIds: known, startedAt: io.now, attempt: item.attempt, keys: keys,
                        changedAt: io.now)
        do {
            let reply = try io.call(address, command, idempotent: false)
            task.id = commands.taskId(startReply: reply)
        } catch .redis(_, let error) where error.isLostReply {
            // It may or may not have started: the nodes' logs will tell (an unseen one counts as failed).
            observer.event("no reply to \(commands.kind.command) for slots \(item.move.slots): \(error); checking the nodes' logs",
                           node: address)
        } catch .redis(_, let error) {
            failed(task, reason: "\(commands.kind.command) refused: \(error)")
            return
        }
        observer.event("\(commands.kind.command) started: \(item.move.slots.count) slots (\(item.move.slots)), \(keys) keys, "
                       + "\(ends.sourceAddress) → \(ends.targetAddress)" + (item.attempt > 1 ? " (attempt \(item.attempt))" : ""),
                       node: address)
        running.append(task)
    }

    // MARK: - Watching

    private func poll() throws(ClusterOpsError) {
        var addresses: [String] = []
        for task in running {
            for address in commands.reporters(task.move.ends) where !addresses.contains(address) {
                addresses.append(address)
            }
        }
        for address in addresses {
            // A node that does not answer for a moment (a source turning into a replica) is read again next round.
            if let statuses = try? readStatuses(address) { reports[address] = statuses }
        }
        var index = 0
        while index < running.count {
            guard let status = status(of: &running[index]) else {
                if io.now - running[index].startedAt > unseenTimeout {
                    failed(running.remove(at: index), reason: "no node lists the migration \(Int(unseenTimeout)) s after it was started")
                } else {
                    index += 1
                }
                continue
            }
            if status.state != running[index].state {
                running[index].state = status.state
                running[index].changedAt = io.now
                let move = running[index].move
                let line = "migration \(status.id.prefix(8)) of \(move.slots.count) slots \(move.ends.sourceAddress) → "
                    + "\(move.ends.targetAddress): \(status.state)"
                observer.step(line)
                if !status.phase.isFinal { observer.event(line, node: move.ends.sourceAddress) }
            }
            if status.phase.isFinal {
                try finish(running.remove(at: index), status)
            } else if io.now - running[index].changedAt > stallTimeout {
                // Seen on Valkey 9.1 after a cancel: an import that stays in one state and never ends. Cancelling
                // frees the slots for another attempt, or for the key-by-key path after the last one.
                failed(running.remove(at: index), reason: "no progress for \(Int(stallTimeout)) s in state \(status.state); cancelled it",
                       cancel: true)
            } else {
                index += 1
            }
        }
    }

    /// The task's latest report: the first final one among its reporters (the target's outlives the source's),
    /// else the first one. A task started without an id takes the new entry that matches its slots and target.
    private func status(of task: inout Task) -> AtomicMigrationStatus? {
        let reporters = commands.reporters(task.move.ends)
        if task.id == nil {
            // The node that took the start command lists the new migration at once. Another node's entry is taken
            // only once it has ended: a target can hold an import left over from a cancelled migration of the same
            // slots that never ends, and following it would wait for ever.
            let starter = commands.start(task.move.slots, task.move.ends).address
            for address in [starter] + reporters.filter({ $0 != starter }) {
                if let match = reports[address]?.first(where: { status in
                    !task.knownIds.contains(status.id) && status.slots == task.move.slots
                        && (status.target ?? task.move.ends.target) == task.move.ends.target
                        && (address == starter || status.phase.isFinal)
                }) {
                    task.id = match.id
                    break
                }
            }
        }
        guard let id = task.id else { return nil }
        let seen = reporters.compactMap { address in reports[address]?.first { $0.id == id } }
        return seen.first(where: \.phase.isFinal) ?? seen.first
    }

    private func finish(_ task: Task, _ status: AtomicMigrationStatus) throws(ClusterOpsError) {
        let ends = task.move.ends
        let owned = try ownedSlots(ends.targetAddress)
        let moved = task.move.slots.intersection(owned)
        if status.phase == .succeeded && moved == task.move.slots {
            let seconds = io.now - task.startedAt
            observer.slotsMoved(moved.count, keys: task.keys)
            observer.event("moved \(moved.count) slots (\(moved)) with \(task.keys) keys \(ends.sourceAddress) → "
                           + "\(ends.targetAddress) by \(commands.kind.command) in \(Self.format(seconds)) s",
                           node: ends.targetAddress)
            return
        }
        if !moved.isEmpty { observer.slotsMoved(moved.count, keys: 0) }
        let reason = status.phase == .succeeded
            ? "reported success but \(ends.targetAddress) does not own slots \(task.move.slots.subtracting(owned))"
            : "\(status.state)" + (status.message.isEmpty ? "" : ": \(status.message)")
        var rest = task
        rest.move.slots = task.move.slots.subtracting(moved)
        failed(rest, reason: reason)
    }

    /// A migration that did not complete: started again after a pause, or handed back for key-by-key moves.
    /// `cancel` stops what the server may still be doing first: always for Redis, which retries a failed import on
    /// its own (the job decides when to retry instead), and for a migration that is stuck.
    private func failed(_ task: Task, reason: String, cancel: Bool = false) {
        let ends = task.move.ends
        if task.move.slots.isEmpty { return }
        if cancel || (commands.oneAtATime && task.id != nil) {
            let (address, command) = commands.cancel(taskId: task.id ?? "", ends)
            do {
                _ = try io.call(address, command, idempotent: true)
            } catch {
                observer.event("could not cancel \(commands.kind.command) on \(address): \(error)", node: address)
            }
        }
        if task.attempt < attempts {
            let delay = backoff * Double(1 << (task.attempt - 1))
            observer.event("\(commands.kind.command) of slots \(task.move.slots) \(ends.sourceAddress) → \(ends.targetAddress) "
                           + "failed (\(reason)); starting it again in \(Self.format(delay)) s", node: ends.sourceAddress)
            pending.append(Pending(move: task.move, attempt: task.attempt + 1, notBefore: io.now + delay))
        } else {
            observer.event("\(commands.kind.command) of slots \(task.move.slots) \(ends.sourceAddress) → \(ends.targetAddress) "
                           + "failed \(task.attempt) times (last: \(reason)); moving these slots key by key instead",
                           node: ends.sourceAddress)
            leftovers.append(task.move)
        }
    }

    // MARK: - Cancelling

    /// Cancels every running migration and waits (bounded) until the nodes report each one ended, so the job stops
    /// with every slot owned by exactly one master. Slots that completed before the cancel took effect are counted.
    private func cancelRunning() throws(ClusterOpsError) {
        pending = []
        var sent = Set<[String]>()
        for task in running {
            // Valkey cancels by source, Redis by task id (which its start command always answers).
            let (address, command) = commands.cancel(taskId: task.id ?? "", task.move.ends)
            if sent.insert([address] + command).inserted {
                do {
                    _ = try io.call(address, command, idempotent: true)
                    observer.event("cancelled the running \(commands.kind.command)", node: address)
                } catch {
                    observer.event("could not cancel \(commands.kind.command) on \(address): \(error)", node: address)
                }
            }
        }
        let deadline = io.now + 30
        while !running.isEmpty && io.now < deadline {
            io.pause(pollInterval)
            for address in Set(running.flatMap { commands.reporters($0.move.ends) }) {
                if let statuses = try? readStatuses(address) { reports[address] = statuses }
            }
            var index = 0
            while index < running.count {
                let status = status(of: &running[index])
                let vanished = status == nil && io.now - running[index].startedAt > unseenTimeout
                guard status?.phase.isFinal == true || vanished else {
                    index += 1
                    continue
                }
                let task = running.remove(at: index)
                let moved = task.move.slots.intersection(try ownedSlots(task.move.ends.targetAddress))
                if !moved.isEmpty {
                    observer.slotsMoved(moved.count, keys: moved == task.move.slots ? task.keys : 0)
                    observer.event("\(moved.count) slots (\(moved)) had already moved to \(task.move.ends.targetAddress) "
                                   + "when the cancel arrived", node: task.move.ends.targetAddress)
                }
            }
        }
        if !running.isEmpty {
            throw .failed("migrations still running 30 s after they were cancelled: "
                          + running.map { "\($0.move.slots) \($0.move.ends.sourceAddress) → \($0.move.ends.targetAddress)" }
                              .joined(separator: "; "))
        }
    }

    // MARK: - Reading the nodes

    private func readStatuses(_ address: String) throws(ClusterOpsError) -> [AtomicMigrationStatus] {
        let reply = try io.call(address, commands.statusCommand, idempotent: true)
        guard let statuses = commands.statuses(reply) else {
            throw .failed("\(address): unreadable reply to \(commands.statusCommand.joined(separator: " "))")
        }
        return statuses
    }

    private func ownedSlots(_ address: String) throws(ClusterOpsError) -> SlotSet {
        let reply = try io.call(address, ["CLUSTER", "NODES"], idempotent: true).bytes ?? []
        do {
            guard let me = try ClusterNodesParser.parse(reply).first(where: \.isMyself) else {
                throw ClusterOpsError.failed("\(address) did not report itself in CLUSTER NODES")
            }
            return me.isMaster ? me.slots : SlotSet()
        } catch let error as ClusterOpsError {
            throw error
        } catch {
            throw .failed("\(address): unreadable CLUSTER NODES: \(error)")
        }
    }

    private func countKeys(_ address: String, _ slots: SlotSet) throws(ClusterOpsError) -> Int {
        let list = slots.ranges.flatMap { Array($0) }
        guard !list.isEmpty else { return 0 }
        var total = 0
        for result in try io.reads(address, list.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }) {
            if case .success(let value) = result { total += Int(value.int ?? 0) }
        }
        return total
    }

    static func format(_ seconds: Double) -> String {
        let hundredths = Int((seconds * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
