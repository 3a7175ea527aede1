import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/reshard`: `{"to","slots":N,"from":"all"|[nodes]}` takes N slots as redis-cli would;
/// `{"to","slot_ranges":[[a,b],...]}` moves exactly those slots, each from its current owner.
public enum ReshardJob: JobKind {
    public struct Params: Codable, Sendable, Equatable, SlotMovingParams {
        public var to: String
        /// With `slots`: the source masters, nil for all.
        public var from: [String]?
        public var slots: Int?
        public var slotRanges: SlotSet?
        public var replace: Bool
        public var method: MoveSettings.Method?
        public var maxKeysPerSecond: Int?
    }

    public static let name = "reshard"
    public static let fields: Set<String> = Set(["to", "slots", "from", "slot_ranges", "replace"]).union(MoveSettings.fields)

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        let to = try request.nodeReference("to")
        let replace = try request.bool("replace") ?? false
        let settings = try MoveSettings.parse(request)
        if let ranges = try request.slotRanges("slot_ranges") {
            if request.has("slots") || request.has("from") {
                throw RequestFieldError("give either 'slot_ranges' or 'slots' (with optional 'from'), not both")
            }
            return Params(to: to, from: nil, slots: nil, slotRanges: ranges, replace: replace, method: settings.method,
                          maxKeysPerSecond: settings.maxKeysPerSecond)
        }
        guard let count = try request.int("slots", in: 1...16384) else {
            throw RequestFieldError("field 'slots' (a count) or 'slot_ranges' is required")
        }
        return Params(to: to, from: try sources(request.raw("from")), slots: count, slotRanges: nil, replace: replace,
                      method: settings.method, maxKeysPerSecond: settings.maxKeysPerSecond)
    }

    static func sources(_ value: JSONValue?) throws(RequestFieldError) -> [String]? {
        switch value {
        case nil, .null?, .string("all")?: return nil
        case .array(let items)?:
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item, RequestFields.isNodeReference(text) else {
                    throw RequestFieldError("field 'from' must be \"all\" or an array of nodes (40-hex id or host:port)")
                }
                result.append(text)
            }
            guard !result.isEmpty else { throw RequestFieldError("field 'from' must not be empty") }
            return result
        default: throw RequestFieldError("field 'from' must be \"all\" or an array of nodes")
        }
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> SlotMovesPlan {
        let topology = cluster.topology
        let target = try NodeReference.resolve(params.to, in: topology)
        guard target.isMaster else { throw .impossible("\(params.to) is a replica; slots can only move to a master") }
        let masters = topology.masters.map { MasterSlots(id: $0.id, address: $0.address, slots: $0.slots) }
        let moves: [SlotMove]
        do {
            if let ranges = params.slotRanges {
                let owned = ranges.intersection(target.slots)
                if !owned.isEmpty {
                    throw ClusterOpsError.impossible("\(target.address) already owns slots \(owned); nothing to move there")
                }
                moves = try ReshardPlanner.plan(slots: ranges, target: target.id, owners: masters)
            } else {
                var sources: [MasterSlots]
                if let from = params.from {
                    sources = []
                    for reference in from {
                        let node = try NodeReference.resolve(reference, in: topology)
                        guard node.isMaster else { throw ClusterOpsError.impossible("source \(reference) is a replica") }
                        guard node.id != target.id else { throw ClusterOpsError.impossible("source \(reference) is the target") }
                        sources.append(MasterSlots(id: node.id, address: node.address, slots: node.slots))
                    }
                } else {
                    sources = masters.filter { $0.id != target.id && !$0.slots.isEmpty }
                }
                moves = try ReshardPlanner.plan(sources: sources, target: target.id, count: params.slots ?? 0)
            }
        } catch let error as ClusterOpsError {
            throw error
        } catch let error as ClusterModelError {
            throw .impossible(error.description)
        } catch {
            throw .impossible("\(error)")
        }
        let planned = PlannedMove.list(moves, topology)
        let choice = try params.moveSettings.resolve(moves, in: topology)
        return SlotMovesPlan(summary: "move \(planned.reduce(0) { $0 + $1.count }) slots to \(target.address) (\(choice.name))",
                             moves: planned, choice: choice)
    }
}
