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
public struct SlotMovesPlan: JobPlanContent, Equatable {
    public var summary: String
    public var slotsTotal: Int
    public var moves: [PlannedMove]

    init(summary: String, moves: [PlannedMove]) {
        self.summary = summary
        self.moves = moves
        slotsTotal = moves.reduce(0) { $0 + $1.count }
    }
}

/// Carrying out slot moves, shared by reshard, rebalance and del-node.
enum SlotMoving {
    /// Waits for convergence, then moves each planned batch; the cluster is re-read so addresses are current.
    static func run(_ moves: [PlannedMove], in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
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
        context.observer.step("moving slots")
        let migrator = SlotMigrator(session: session, options: context.options, observer: context.observer)
        for move in moves {
            let outcome = try migrator.run(SlotMove(from: move.from, to: move.to, slots: move.slots), addresses: addresses,
                                           masters: masters)
            if outcome == .stopped { return .stopped }
        }
        context.observer.step("waiting for convergence")
        try session.waitForConvergence(timeout: 60)
        return .completed
    }
}
