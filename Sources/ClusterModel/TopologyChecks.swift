/// The verdicts of `redis-cli --cluster check`, plus reachability and failure flags.
public struct TopologyChecks: Sendable, Equatable, Codable {
    /// Every check below is green. Masters without replicas only warn, as in redis-cli.
    public var ok: Bool
    public var slotsCovered: Bool
    public var uncoveredSlots: SlotSet
    public var nodesAgree: Bool
    /// Human sentences naming the nodes whose views differ.
    public var disagreements: [String]
    public var openSlots: [OpenSlot]
    /// Addresses of nodes flagged `fail` by any reachable node.
    public var failingNodes: [String]
    /// Addresses of nodes flagged `fail?` (and not `fail`) by any reachable node.
    public var possiblyFailingNodes: [String]
    /// Addresses of slot-owning masters with no replica.
    public var mastersWithoutReplicas: [String]
    /// Addresses we tried and could not read.
    public var unreachableNodes: [String]
    /// redis-cli-like report lines.
    public var messages: [String]

    public init(
        ok: Bool, slotsCovered: Bool, uncoveredSlots: SlotSet, nodesAgree: Bool, disagreements: [String],
        openSlots: [OpenSlot], failingNodes: [String], possiblyFailingNodes: [String],
        mastersWithoutReplicas: [String], unreachableNodes: [String], messages: [String]
    ) {
        self.ok = ok
        self.slotsCovered = slotsCovered
        self.uncoveredSlots = uncoveredSlots
        self.nodesAgree = nodesAgree
        self.disagreements = disagreements
        self.openSlots = openSlots
        self.failingNodes = failingNodes
        self.possiblyFailingNodes = possiblyFailingNodes
        self.mastersWithoutReplicas = mastersWithoutReplicas
        self.unreachableNodes = unreachableNodes
        self.messages = messages
    }
}
