import ClusterModel
import Testing

struct DrainPlannerTests {
    typealias F = PlannerFixtures

    @Test("draining 6387's 4096 slots to the other three restores contiguous ranges")
    func drainToThree() throws {
        let drained = F.fourAfterReshard[3]
        let receivers = Array(F.fourAfterReshard.prefix(3))
        let moves = try DrainPlanner.plan(drain: drained, to: receivers)
        // Balances -1365 each (+1 rounding slot on the first receiver) against +4096.
        #expect(moves == [
            SlotMove(from: F.d, to: F.a, slots: SlotSet(ranges: [0...1364, 5461...5461])),
            SlotMove(from: F.d, to: F.b, slots: SlotSet(ranges: [5462...6826])),
            SlotMove(from: F.d, to: F.c, slots: SlotSet(ranges: [10923...12287])),
        ])
        let after = F.apply(moves, to: F.fourAfterReshard)
        #expect(after[F.d]?.isEmpty == true)
        #expect(after[F.a] == SlotSet(ranges: [0...5461]))
        #expect(after[F.b] == SlotSet(ranges: [5462...10922]))
        #expect(after[F.c] == SlotSet(ranges: [10923...16383]))
        #expect(moves.reduce(0) { $0 + $1.slots.count } == 4096)
        #expect(after.values.reduce(SlotSet()) { $0.union($1) } == .all)
    }

    @Test("same result as rebalance with weight 0 when every master takes part")
    func matchesRebalanceWithWeightZero() throws {
        let drain = try DrainPlanner.plan(drain: F.fourAfterReshard[3], to: Array(F.fourAfterReshard.prefix(3)))
        let rebalance = try RebalancePlanner.plan(masters: F.fourAfterReshard, weights: [F.d: 0])
        #expect(drain == rebalance)
    }

    @Test("draining to a subset shares the slots evenly among that subset")
    func drainToSubset() throws {
        let moves = try DrainPlanner.plan(drain: F.fourAfterReshard[3], to: Array(F.fourAfterReshard.prefix(2)))
        #expect(moves == [
            SlotMove(from: F.d, to: F.a, slots: SlotSet(ranges: [0...1364, 5461...6143])),
            SlotMove(from: F.d, to: F.b, slots: SlotSet(ranges: [6144...6826, 10923...12287])),
        ])
    }

    @Test("an empty receiver takes part")
    func emptyReceiver() throws {
        let empty = F.master(F.c, 6383, [])
        let drained = F.master(F.d, 6387, [0...99])
        let moves = try DrainPlanner.plan(drain: drained, to: [empty, F.master(F.a, 6381, [100...199])])
        let after = F.apply(moves, to: [empty, drained])
        #expect(after[F.d]?.isEmpty == true)
        #expect(after[F.c]?.count == 100)
        #expect(moves.allSatisfy { $0.to == F.c })
    }

    @Test func emptyNodeNeedsNothing() throws {
        #expect(try DrainPlanner.plan(drain: F.master(F.d, 6387, []), to: Array(F.fourAfterReshard.prefix(3))).isEmpty)
    }

    @Test func errors() {
        #expect(throws: ClusterModelError.self) {
            try DrainPlanner.plan(drain: F.fourAfterReshard[3], to: [])
        }
        #expect(throws: ClusterModelError.self) {
            try DrainPlanner.plan(drain: F.fourAfterReshard[3], to: F.fourAfterReshard)
        }
    }
}
