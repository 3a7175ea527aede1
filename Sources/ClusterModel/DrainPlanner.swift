/// Empties one master before it is removed.
public enum DrainPlanner {
    /// What `redis-cli --cluster rebalance --cluster-weight <drain>=0 --cluster-use-empty-masters` does
    /// with the drained node and the receivers: the rebalance algorithm with the drained node at weight 0,
    /// sharing out the slots the participants hold (16384 when every master takes part). As in redis-cli,
    /// receivers that are off balance by more than the default 2% threshold also even out among themselves.
    public static func plan(drain: MasterSlots, to receivers: [MasterSlots]) throws(ClusterModelError) -> [SlotMove] {
        guard !receivers.isEmpty else { throw .invalidArgument("no receiving masters given") }
        guard !receivers.contains(where: { $0.id == drain.id }) else {
            throw .invalidArgument("the drained node \(drain.id) cannot also receive")
        }
        guard !drain.slots.isEmpty else { return [] }
        let participants = receivers + [drain]
        let held = participants.reduce(SlotSet()) { $0.union($1.slots) }.count
        return try RebalancePlanner.plan(
            masters: participants, weights: [drain.id: 0], thresholdPercent: 2, useEmptyMasters: true,
            totalSlots: held)
    }
}
