import ClusterModel
import ClusterOps

/// Slot moves as plans store them: node ids with the addresses they had when planned.
public struct PlannedMove: Sendable, Equatable, Codable {
    public var from: String
    public var fromAddress: String
    public var to: String
    public var toAddress: String
    public var slots: SlotSet
    public var count: Int

    static func list(_ moves: [SlotMove], _ topology: ClusterTopology) -> [PlannedMove] {
        moves.map { move in
            PlannedMove(from: move.from, fromAddress: topology.node(id: move.from)?.address ?? "",
                        to: move.to, toAddress: topology.node(id: move.to)?.address ?? "",
                        slots: move.slots, count: move.slots.count)
        }
    }
}

/// The plan of the kinds that only move slots (reshard, rebalance).
public struct SlotMovesPlan: JobPlanContent, SlotMovingPlan, Equatable {
    public var summary: String
    public var slotsTotal: Int
    public var moves: [PlannedMove]
    public var method: String?
    public var atomicProtocol: AtomicMigrationKind?
    public var methodReason: String?
    /// Rebalance by load: the measure and each master's figure before and after (what the dry run shows).
    public var balance: LoadBalance?

    init(summary: String, moves: [PlannedMove], choice: MoveMethodChoice, balance: LoadBalance? = nil) {
        self.summary = summary
        self.moves = moves
        self.balance = balance
        slotsTotal = moves.reduce(0) { $0 + $1.count }
        method = choice.name
        atomicProtocol = choice.atomicProtocol
        methodReason = choice.reason
    }
}

/// Carrying out slot moves, shared by reshard, rebalance and del-node.
enum SlotMoving {
    /// Waits for convergence, then moves the planned slots by the plan's method; the cluster is re-read so
    /// addresses are current. `leaving` is a node being drained to be removed: the wait afterwards does not wait
    /// for it (emptied, Redis turns it into a replica, whose full sync matters to nobody).
    static func run(_ moves: [PlannedMove], method: MigrationMethod, leaving: String? = nil, in context: JobContext)
        throws(ClusterOpsError) -> SlotMigrator.Outcome {
        guard !moves.isEmpty else { return .completed }
        let session = context.session
        context.observer.step("waiting for convergence")
        let topology = try session.waitForConvergence(timeout: 60)
        var addresses = Dictionary(topology.nodes.map { ($0.id, $0.address) }, uniquingKeysWith: { first, _ in first })
        for move in moves {
            addresses[move.from] = addresses[move.from] ?? move.fromAddress
            addresses[move.to] = addresses[move.to] ?? move.toAddress
        }
        let masters = topology.masters.map(\.address)
        // A resumed job: slots whose target already owns them were moved before the interruption, reported or not.
        let found = moves.reduce(0) { total, move in
            total + move.slots.intersection(topology.node(id: move.to)?.slots ?? SlotSet()).count
        }
        if found > 0 { context.observer.slotsFoundMoved(found) }
        context.observer.step("counting keys")
        if let left = keysLeft(moves, addresses: addresses, session: session) { context.observer.keysToMove(left) }
        context.observer.step("moving slots")
        let runner = SlotMoveRunner(session: session, options: context.options, observer: context.observer)
        let outcome = try runner.run(moves.map { SlotMove(from: $0.from, to: $0.to, slots: $0.slots) }, method: method,
                                     addresses: addresses, masters: masters)
        if outcome == .stopped { return .stopped }
        context.observer.step("waiting for convergence")
        try session.waitForConvergence(ignoring: leaving.map { [$0] } ?? [], timeout: 60)
        return .completed
    }
}

extension SlotMoving {
    /// The keys still on the sources in the moves' slots: COUNTKEYSINSLOT for every slot, pipelined per source; nil
    /// when a source does not answer (a job that drains a failing node still runs, its progress counted in slots).
    static func keysLeft(_ moves: [PlannedMove], addresses: [String: String], session: ClusterSession) -> Int? {
        var slotsBySource: [String: [Int]] = [:]
        for move in moves {
            guard let source = addresses[move.from] else { continue }
            slotsBySource[source, default: []] += move.slots.slots
        }
        var total = 0
        for (source, slots) in slotsBySource.sorted(by: { $0.key < $1.key }) {
            guard let counts = try? session.pipelineAll(source, slots.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true)
            else { return nil }
            total += counts.reduce(0) { $0 + Int($1.int ?? 0) }
        }
        return total
    }
}

/// What a rebalance by load evened out: the measure and each master's figure before and after.
public struct LoadBalance: Codable, Sendable, Equatable {
    public var measure: String
    public var masters: [LoadBalancePlanner.Figure]
}

extension SlotMovesPlan {
    /// Moves checked before (memory, big keys, permissions of every command, time) and proven after (owners, no
    /// key left behind).
    func effects(on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.moves = moves
        effects.method = migrationMethod
        effects.needs = Array(Set(moves.flatMap { [$0.fromAddress, $0.toAddress] })).sorted()
        effects.commands = PlanEffects.moveCommands(moves, method: migrationMethod, masters: topology.masters.map(\.address))
        return effects
    }

    var expectations: Expectations {
        var expected = Expectations()
        expected.owners = moves.map { ($0.to, $0.slots) }
        expected.movedAway = moves.map { ($0.fromAddress, $0.slots) }
        return expected
    }
}

extension JobKind where Plan == SlotMovesPlan {
    public static func effects(_ plan: SlotMovesPlan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        plan.effects(on: topology)
    }

    public static func expectations(_ plan: SlotMovesPlan, params: Params) -> Expectations { plan.expectations }
}
