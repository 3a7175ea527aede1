import ClusterModel
import ClusterOps

/// The request fields shared by the kinds that move slots (reshard, rebalance, del-node): how keys travel and how
/// fast.
public struct MoveSettings: Codable, Sendable, Equatable {
    /// What the request asked for.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// Atomic when every node involved offers it and no slot is open from a key-by-key move; else keys.
        case auto
        /// The servers' atomic slot migration, or a 422 saying why not.
        case atomic
        /// MIGRATE key by key, whatever the servers offer.
        case keys
    }

    public var method: Method
    public var maxKeysPerSecond: Int?

    public static let fields: Set<String> = ["method", "max_keys_per_second"]

    public init(method: Method = .auto, maxKeysPerSecond: Int? = nil) {
        self.method = method
        self.maxKeysPerSecond = maxKeysPerSecond
    }

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> MoveSettings {
        var method = Method.auto
        if let text = try request.string("method") {
            guard let value = Method(rawValue: text) else {
                throw RequestFieldError("field 'method' must be one of \(Method.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            method = value
        }
        let rate = try request.int("max_keys_per_second", in: 1...100_000_000)
        if rate != nil && method == .atomic {
            throw RequestFieldError("field 'max_keys_per_second' throttles key-by-key moves; it cannot be combined with "
                                    + "\"method\": \"atomic\" (the server paces atomic migration itself)")
        }
        return MoveSettings(method: method, maxKeysPerSecond: rate)
    }

    /// Decides, against the live topology, how the planned moves will travel, and says why.
    func resolve(_ moves: [SlotMove], in topology: ClusterTopology) throws(ClusterOpsError) -> MoveMethodChoice {
        if moves.isEmpty { return MoveMethodChoice(method: .keys, reason: "nothing to move") }
        switch method {
        case .keys: return MoveMethodChoice(method: .keys, reason: "the request asked for key-by-key moves")
        case .auto where maxKeysPerSecond != nil:
            return MoveMethodChoice(method: .keys, reason: "max_keys_per_second throttles key-by-key moves")
        case .auto, .atomic: break
        }
        let ids = Set(moves.flatMap { [$0.from, $0.to] })
        let nodes = topology.nodes.filter { ids.contains($0.id) }
        var kinds = Set<AtomicMigrationKind>()
        for node in nodes {
            guard let kind = node.server?.atomicMigration else {
                let server = node.server.map { "runs \($0), which has" } ?? "did not say which server it runs; assuming"
                return try fallBack("\(node.address) \(server) no atomic slot migration (Valkey ≥ 9.0 or Redis ≥ 8.4)")
            }
            kinds.insert(kind)
        }
        guard kinds.count == 1, let kind = kinds.first else {
            return try fallBack("the nodes involved run different servers (\(Set(nodes.compactMap(\.server)).sorted().map(\.description).joined(separator: ", ")))")
        }
        if let open = topology.nodes.first(where: { $0.migrating != nil || $0.importing != nil }) {
            return try fallBack("\(open.address) has slots open from a key-by-key migration; run fix to finish them first")
        }
        let versions = Set(nodes.compactMap(\.server)).sorted().map(\.description).joined(separator: ", ")
        return MoveMethodChoice(method: .atomic(kind), reason: "every node involved runs \(versions), which migrates slots atomically")
    }

    private func fallBack(_ reason: String) throws(ClusterOpsError) -> MoveMethodChoice {
        if method == .atomic { throw .impossible("atomic slot migration is not possible: \(reason)") }
        return MoveMethodChoice(method: .keys, reason: reason)
    }

    var migrationOptions: MigrationOptions { MigrationOptions(maxKeysPerSecond: maxKeysPerSecond) }
}

/// How a plan's slots travel, decided when it is made.
struct MoveMethodChoice {
    var method: MigrationMethod
    var reason: String
}

/// A plan that moves slots stores how: `method` ("atomic" or "keys"), `atomic_protocol` and `method_reason`.
protocol SlotMovingPlan {
    var method: String? { get }
    var atomicProtocol: AtomicMigrationKind? { get }
}

extension SlotMovingPlan {
    /// What the stored fields say; a plan stored before methods existed moves keys.
    var migrationMethod: MigrationMethod {
        if method == "atomic", let atomicProtocol { return .atomic(atomicProtocol) }
        return .keys
    }
}

extension MoveMethodChoice {
    var name: String { if case .atomic = method { "atomic" } else { "keys" } }
    var atomicProtocol: AtomicMigrationKind? { if case .atomic(let kind) = method { kind } else { nil } }
}

/// The params of the kinds that move slots (reshard, rebalance, del-node, restore): how keys travel, the throttle,
/// and whether keys present on both sides are overwritten.
public protocol SlotMovingParams {
    var method: MoveSettings.Method? { get }
    var maxKeysPerSecond: Int? { get }
    var replace: Bool { get }
}

extension SlotMovingParams {
    var moveSettings: MoveSettings { MoveSettings(method: method ?? .auto, maxKeysPerSecond: maxKeysPerSecond) }
}

extension JobKind where Params: SlotMovingParams {
    public static func migrationOptions(_ params: Params) -> MigrationOptions {
        var options = params.moveSettings.migrationOptions
        options.replace = params.replace
        return options
    }
}

extension JobKind where Params: SlotMovingParams, Plan == SlotMovesPlan {
    /// The planned moves, by the plan's method.
    public static func execute(_ plan: SlotMovesPlan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        try SlotMoving.run(plan.moves, method: plan.migrationMethod, in: context)
    }
}
