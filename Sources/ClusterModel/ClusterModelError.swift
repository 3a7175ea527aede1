/// Everything the pure cluster model can reject; each case carries enough to tell the user what to fix.
public enum ClusterModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `CLUSTER NODES` line that cannot be understood.
    case malformedNodesLine(line: String, reason: String)
    /// A slot range given by a user that is outside 0...16383 or reversed.
    case invalidSlotRange(String)
    /// A node id that the planner was not given.
    case unknownNode(String)
    /// Slots that no master owns, so nobody can give them away.
    case unownedSlots(SlotSet)
    /// More slots requested than the sources own.
    case notEnoughSlots(requested: Int, available: Int)
    /// `--cluster create` needs at least three masters.
    case tooFewMasters(nodes: Int, replicas: Int)
    /// A parameter that makes no sense (negative count, bad weight, bad address, ...).
    case invalidArgument(String)
    /// The request is well-formed but cannot be satisfied.
    case impossible(String)

    public var description: String {
        switch self {
        case let .malformedNodesLine(line, reason):
            "malformed CLUSTER NODES line (\(reason)): \(line)"
        case let .invalidSlotRange(detail):
            "invalid slot range: \(detail)"
        case let .unknownNode(id):
            "unknown node \(id)"
        case let .unownedSlots(slots):
            "slots not owned by any master: \(slots)"
        case let .notEnoughSlots(requested, available):
            "cannot move \(requested) slots: the sources own only \(available)"
        case let .tooFewMasters(nodes, replicas):
            "Redis Cluster requires at least 3 master nodes; this is not possible with \(nodes) nodes and "
                + "\(replicas) replicas per node (at least \(3 * (replicas + 1)) nodes are required)"
        case let .invalidArgument(detail):
            "invalid argument: \(detail)"
        case let .impossible(detail):
            detail
        }
    }
}
