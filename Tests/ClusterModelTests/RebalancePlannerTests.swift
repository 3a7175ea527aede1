import ClusterModel
import Testing

struct RebalancePlannerTests {
    typealias F = PlannerFixtures

    @Test("3 full masters + 1 empty with use-empty-masters: each ends with 4096")
    func useEmptyMasters() throws {
        let moves = try RebalancePlanner.plan(masters: F.threeFullOneEmpty, useEmptyMasters: true)
        // Balances 1365/1366/1365/-4096: the most loaded (6382) gives first, then 6383, then 6381.
        #expect(moves == [
            SlotMove(from: F.b, to: F.d, slots: SlotSet(ranges: [5461...6826])),
            SlotMove(from: F.c, to: F.d, slots: SlotSet(ranges: [10923...12287])),
            SlotMove(from: F.a, to: F.d, slots: SlotSet(ranges: [0...1364])),
        ])
        let after = F.apply(moves, to: F.threeFullOneEmpty)
        #expect(after.values.allSatisfy { $0.count == 4096 })
        #expect(after[F.d] == F.fourAfterReshard[3].slots)
    }

    @Test("without use-empty-masters the empty master is ignored and the rest is balanced")
    func emptyMasterIgnored() throws {
        #expect(try RebalancePlanner.plan(masters: F.threeFullOneEmpty).isEmpty)
        #expect(try RebalancePlanner.plan(masters: F.threeFullOneEmpty, weights: [F.d: 5]).isEmpty)
    }

    @Test func balancedClustersNeedNothing() throws {
        #expect(try RebalancePlanner.plan(masters: F.fourAfterReshard).isEmpty)
        #expect(try RebalancePlanner.plan(masters: F.fourAfterReshard, useEmptyMasters: true).isEmpty)
    }

    @Test("a tiny threshold moves the single extra slot of the 5462-slot master")
    func tinyThreshold() throws {
        // 5462 vs 5461 expected is 0.018% off; the rounding remainder goes to 6381, the first non-giver.
        let moves = try RebalancePlanner.plan(masters: Array(F.threeFullOneEmpty.prefix(3)), thresholdPercent: 0.01)
        #expect(moves == [SlotMove(from: F.b, to: F.a, slots: SlotSet([5461]))])
    }

    static let skewed = [
        F.master(F.a, 6381, [0...5560]), F.master(F.b, 6382, [5561...10922]), F.master(F.c, 6383, [10923...16383]),
    ]

    @Test("within the threshold nothing moves; a lower threshold triggers the move")
    func threshold() throws {
        // 5561 vs 5461 expected is 1.8% off, 5362 is 1.85% off: under the default 2%.
        #expect(try RebalancePlanner.plan(masters: Self.skewed).isEmpty)
        let moves = try RebalancePlanner.plan(masters: Self.skewed, thresholdPercent: 1)
        // Balances +100/-99/0; the rounding remainder goes to 6382, which then receives 100.
        #expect(moves == [SlotMove(from: F.a, to: F.b, slots: SlotSet(ranges: [0...99]))])
    }

    @Test("a threshold of 0 disables rebalancing, as in redis-cli")
    func zeroThreshold() throws {
        #expect(try RebalancePlanner.plan(masters: F.threeFullOneEmpty, thresholdPercent: 0, useEmptyMasters: true)
            .isEmpty)
    }

    @Test("weights: a master with weight 2 ends with twice the slots")
    func weights() throws {
        let masters = Array(F.threeFullOneEmpty.prefix(3))
        let moves = try RebalancePlanner.plan(masters: masters, weights: [F.a: 2])
        #expect(moves == [
            SlotMove(from: F.b, to: F.a, slots: SlotSet(ranges: [5461...6826])),
            SlotMove(from: F.c, to: F.a, slots: SlotSet(ranges: [10923...12287])),
        ])
        let after = F.apply(moves, to: masters)
        #expect(after[F.a]?.count == 8192 && after[F.b]?.count == 4096 && after[F.c]?.count == 4096)
    }

    @Test("weight 0 drains a master")
    func weightZeroDrains() throws {
        let moves = try RebalancePlanner.plan(masters: F.fourAfterReshard, weights: [F.d: 0])
        let after = F.apply(moves, to: F.fourAfterReshard)
        #expect(after[F.d]?.isEmpty == true)
        #expect(moves.allSatisfy { $0.from == F.d })
        #expect(after.values.reduce(SlotSet()) { $0.union($1) } == .all)
    }

    @Test("uneven weights leave a rounding remainder that is still fully handed out")
    func roundingRemainder() throws {
        let masters = Array(F.threeFullOneEmpty.prefix(3)) + [F.master(F.d, 6387, [])]
        let moves = try RebalancePlanner.plan(
            masters: masters, weights: [F.a: 1.5, F.b: 0.7, F.c: 1.1, F.d: 3], useEmptyMasters: true)
        let after = F.apply(moves, to: masters)
        #expect(after.values.reduce(0) { $0 + $1.count } == 16384)
        #expect(after.values.reduce(SlotSet()) { $0.union($1) } == .all)
        // Expected shares: 16384/6.3 × weight, truncated: 3900, 1820, 2860, 7801 (sum 16381). The three
        // left over go, one per round, to the nodes that do not give, here only 6387.
        #expect([F.a, F.b, F.c, F.d].map { after[$0]?.count } == [3900, 1820, 2860, 7804])
    }

    @Test("random clusters end at their share, receivers holding at most the rounding remainder more")
    func propertyBalanced() throws {
        var generator = SeededGenerator(seed: 2024)
        let ids = (0..<6).map { String(repeating: String($0), count: 40) }
        for _ in 0..<100 {
            let n = Int.random(in: 2...6, using: &generator)
            let cuts = (0..<(n - 1)).map { _ in Int.random(in: 1..<HashSlot.count, using: &generator) }
            let bounds = [0] + Set(cuts).sorted() + [HashSlot.count]
            let masters = (0..<(bounds.count - 1)).map {
                F.master(ids[$0], 7000 + $0, [bounds[$0]...(bounds[$0 + 1] - 1)])
            }
            let moves = try RebalancePlanner.plan(masters: masters, thresholdPercent: 0.001)
            let after = F.apply(moves, to: masters)
            #expect(after.values.reduce(SlotSet()) { $0.union($1) } == .all)
            let share = HashSlot.count / masters.count
            #expect(after.values.allSatisfy { (share...(share + masters.count - 1)).contains($0.count) })
            #expect(after.values.reduce(0) { $0 + $1.count } == HashSlot.count)
            #expect(moves.allSatisfy { $0.from != $0.to && !$0.slots.isEmpty })
        }
    }

    @Test func errors() {
        #expect(throws: ClusterModelError.unknownNode("nobody")) {
            try RebalancePlanner.plan(masters: F.fourAfterReshard, weights: ["nobody": 1])
        }
        #expect(throws: ClusterModelError.self) {
            try RebalancePlanner.plan(masters: F.fourAfterReshard, weights: [F.a: -1])
        }
        #expect(throws: ClusterModelError.self) {
            try RebalancePlanner.plan(masters: F.fourAfterReshard, weights: [F.a: .nan])
        }
        #expect(throws: ClusterModelError.self) {
            try RebalancePlanner.plan(masters: F.fourAfterReshard, thresholdPercent: -1)
        }
        #expect(throws: ClusterModelError.self) {
            try RebalancePlanner.plan(masters: F.fourAfterReshard, weights: [F.a: 0, F.b: 0, F.c: 0, F.d: 0])
        }
        #expect(throws: ClusterModelError.self) {
            try RebalancePlanner.plan(masters: [])
        }
        #expect(throws: ClusterModelError.self) {
            try RebalancePlanner.plan(masters: F.fourAfterReshard + [F.fourAfterReshard[0]])
        }
    }
}
