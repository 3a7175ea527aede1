import ClusterModel
import ClusterOps

/// `POST /clusters/{id}/rebalance`: moves slots until every master holds its weighted share, within a threshold,
/// planned as redis-cli plans it.
public enum RebalanceJob: JobKind {
    public struct Params: Codable, Sendable, Equatable, SlotMovingParams {
        public var weights: [String: Double]
        public var thresholdPercent: Double
        public var useEmptyMasters: Bool
        public var replace: Bool
        public var method: MoveSettings.Method?
        public var maxKeysPerSecond: Int?
        /// nil or slots: redis-cli's rule (equal slot counts by weight); keys, cpu or memory: even out that measure.
        public var balanceBy: SlotStatistics.Measure?

    }

    public static let name = "rebalance"
    public static let fields: Set<String> = Set(["weights", "threshold_percent", "use_empty_masters", "replace", "balance_by"])
        .union(MoveSettings.fields)

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        let threshold = try request.number("threshold_percent") ?? 2
        guard threshold.isFinite, (0...100).contains(threshold) else {
            throw RequestFieldError("field 'threshold_percent' must be 0 to 100")
        }
        let settings = try MoveSettings.parse(request)
        return Params(weights: try weights(request.raw("weights")), thresholdPercent: threshold,
                      useEmptyMasters: try request.bool("use_empty_masters") ?? false,
                      replace: try request.bool("replace") ?? false, method: settings.method,
                      maxKeysPerSecond: settings.maxKeysPerSecond, balanceBy: try balanceBy(request))
    }

    static func weights(_ value: JSONValue?) throws(RequestFieldError) -> [String: Double] {
        switch value {
        case nil, .null?: return [:]
        case .object(let fields)?:
            var result: [String: Double] = [:]
            for (node, weight) in fields {
                guard RequestFields.isNodeReference(node) else {
                    throw RequestFieldError("field 'weights' must name nodes (40-hex id or host:port), not '\(node)'")
                }
                let number: Double
                switch weight {
                case .int(let value): number = Double(value)
                case .double(let value): number = value
                default: throw RequestFieldError("weight of '\(node)' must be a number")
                }
                guard number.isFinite, number >= 0, number <= 1_000_000 else {
                    throw RequestFieldError("weight of '\(node)' must be 0 to 1000000")
                }
                result[node] = number
            }
            return result
        default: throw RequestFieldError("field 'weights' must be an object of node: weight")
        }
    }

    static func balanceBy(_ request: RequestFields) throws(RequestFieldError) -> SlotStatistics.Measure? {
        guard let text = try request.string("balance_by"), text != "slots" else { return nil }
        guard let measure = SlotStatistics.Measure(rawValue: text) else {
            throw RequestFieldError("field 'balance_by' must be \"slots\", \"keys\", \"cpu\" or \"memory\"")
        }
        return measure
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> SlotMovesPlan {
        let topology = cluster.topology
        var byId: [String: Double] = [:]
        for (reference, weight) in params.weights {
            let node = try NodeReference.resolve(reference, in: topology)
            guard node.isMaster else { throw .impossible("weight given for \(reference), which is a replica") }
            byId[node.id] = weight
        }
        if let measure = params.balanceBy {
            return try planByLoad(measure, params: params, weights: byId, on: cluster)
        }
        let masters = topology.masters.map { MasterSlots(id: $0.id, address: $0.address, slots: $0.slots) }
        let moves: [SlotMove]
        do {
            moves = try RebalancePlanner.plan(masters: masters, weights: byId, thresholdPercent: params.thresholdPercent,
                                              useEmptyMasters: params.useEmptyMasters)
        } catch {
            throw .impossible(error.description)
        }
        let planned = PlannedMove.list(moves, topology)
        let total = planned.reduce(0) { $0 + $1.count }
        let choice = try params.moveSettings.resolve(moves, in: topology)
        return SlotMovesPlan(summary: moves.isEmpty ? "already balanced within \(params.thresholdPercent)%"
                                 : "move \(total) slots to balance \(masters.count) masters (\(choice.name))",
                             moves: planned, choice: choice)
    }

    /// Evens out `measure` (read from the masters now) within threshold_percent, by weight.
    static func planByLoad(_ measure: SlotStatistics.Measure, params: Params, weights: [String: Double],
                           on cluster: PlanningInput) throws(ClusterOpsError) -> SlotMovesPlan {
        let topology = cluster.topology
        guard let access = cluster.access else { throw .impossible("balance_by \(measure.rawValue) needs the cluster's nodes") }
        let session = ClusterSession(access: access)
        defer { session.close() }
        let figures = try SlotStatistics.read(measure, masters: topology.masters, session: session)
        let masters = topology.masters.map {
            LoadBalancePlanner.Master(id: $0.id, address: $0.address, slots: $0.slots, load: figures[$0.id] ?? [:])
        }
        let receivers = Set(topology.masters.filter { (params.useEmptyMasters || !$0.slots.isEmpty) && weights[$0.id] != 0 }.map(\.id))
        let (moves, balance) = LoadBalancePlanner.plan(masters: masters, weights: weights, thresholdPercent: params.thresholdPercent,
                                                       receivers: receivers)
        let planned = PlannedMove.list(moves, topology)
        let total = planned.reduce(0) { $0 + $1.count }
        let choice = try params.moveSettings.resolve(moves, in: topology)
        return SlotMovesPlan(summary: moves.isEmpty ? "\(measure.rawValue) already balanced within \(params.thresholdPercent)% (or no slot fits)"
                                 : "move \(total) slots to even out \(measure.rawValue) over \(masters.count) masters (\(choice.name))",
                             moves: planned, choice: choice, balance: LoadBalance(measure: measure.rawValue, masters: balance))
    }
}
