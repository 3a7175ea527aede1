import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/restore {"snapshot": SID}`: undo to a snapshot. Plans the slot moves that give every master
/// of the snapshot back the slots it owned then, each from its current owner, and carries them out as a reshard
/// does (same methods, throttle and BUSYKEY rule). Refused (422, naming them) when a master of the snapshot is gone
/// or is now a replica, or when a slot the snapshot assigns has no owner now (run fix first).
public enum RestoreJob: JobKind {
    public struct Params: Codable, Sendable, Equatable, SlotMovingParams {
        public var snapshot: Int64
        public var replace: Bool
        public var method: MoveSettings.Method?
        public var maxKeysPerSecond: Int?
    }

    public static let name = "restore"
    public static let fields: Set<String> = Set(["snapshot", "replace"]).union(MoveSettings.fields)

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        guard let snapshot = try request.int("snapshot", in: 1...Int(Int64.max)) else {
            throw RequestFieldError("field 'snapshot' (a snapshot id of this cluster) is required")
        }
        let settings = try MoveSettings.parse(request)
        return Params(snapshot: Int64(snapshot), replace: try request.bool("replace") ?? false, method: settings.method,
                      maxKeysPerSecond: settings.maxKeysPerSecond)
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> SlotMovesPlan {
        let document: TopologyDocument
        do {
            guard let found = try cluster.snapshot(params.snapshot) else {
                throw ClusterOpsError.impossible("this cluster has no snapshot \(params.snapshot)")
            }
            document = found
        } catch let error as ClusterOpsError {
            throw error
        } catch {
            throw .impossible("snapshot \(params.snapshot) cannot be read: \(error)")
        }
        let topology = cluster.topology
        let moves = try moves(back: document, from: topology)
        let planned = PlannedMove.list(moves, topology)
        let choice = try params.moveSettings.resolve(moves, in: topology)
        let count = planned.reduce(0) { $0 + $1.count }
        return SlotMovesPlan(summary: count == 0 ? "the slot layout already matches snapshot \(params.snapshot)"
                                : "move \(count) slots back to the layout of snapshot \(params.snapshot) (\(choice.name))",
                             moves: planned, choice: choice)
    }

    /// The moves that give each of the snapshot's masters its slots back: grouped by (current owner, snapshot owner).
    static func moves(back snapshot: TopologyDocument, from topology: ClusterTopology) throws(ClusterOpsError) -> [SlotMove] {
        let wanted = snapshot.nodes.filter { $0.role == "master" && !$0.slots.isEmpty }
        var gone: [String] = []
        for master in wanted {
            guard let now = topology.node(id: master.id) else {
                gone.append("\(master.address) (\(master.id)) is no longer in the cluster")
                continue
            }
            if !now.isMaster { gone.append("\(master.address) (\(master.id)) is now a replica") }
            else if !now.reachable || now.flags.contains("fail") { gone.append("\(master.address) (\(master.id)) is down") }
        }
        guard gone.isEmpty else {
            throw .impossible("snapshot \(snapshot.observedAt)'s masters are gone, so their slots cannot be given back: "
                + gone.joined(separator: "; "))
        }
        var owners: [Int: String] = [:]
        for master in topology.masters {
            for slot in master.slots.slots { owners[slot] = master.id }
        }
        var grouped: [String: (from: String, to: String, slots: [Int])] = [:]
        var unowned: [Int] = []
        for master in wanted {
            for slot in master.slots.slots {
                guard let current = owners[slot] else {
                    unowned.append(slot)
                    continue
                }
                guard current != master.id else { continue }
                grouped["\(current)>\(master.id)", default: (current, master.id, [])].slots.append(slot)
            }
        }
        guard unowned.isEmpty else {
            throw .impossible("slots \(SlotSet(unowned)) have no owner now; run fix first, then restore")
        }
        return grouped.keys.sorted().map { key in
            let group = grouped[key]!
            return SlotMove(from: group.from, to: group.to, slots: SlotSet(group.slots))
        }
    }
}
