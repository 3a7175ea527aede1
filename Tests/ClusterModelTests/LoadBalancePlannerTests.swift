import ClusterModel
import Testing

/// Rebalance by load on hand-made loads: the spread shrinks to the threshold or as far as whole slots allow, nothing
/// moves when it is already even, and weights and receivers are honoured.
@Suite struct LoadBalancePlannerTests {
    func master(_ id: String, _ slots: ClosedRange<Int>, _ load: [Int: Double]) -> LoadBalancePlanner.Master {
        LoadBalancePlanner.Master(id: id, address: "127.0.0.1:\(7000 + id.count)", slots: SlotSet(ranges: [slots]), load: load)
    }

    @Test func heavySlotsOnOneMasterAreSpreadOut() {
        var heavy: [Int: Double] = [:]
        for slot in 0..<12 { heavy[slot] = 2500 }
        for slot in 12..<5461 { heavy[slot] = 1 }
        let masters = [master("a", 0...5460, heavy), master("bb", 5461...10922, [6000: 1000]), master("ccc", 10923...16383, [11000: 1000])]
        let (moves, figures) = LoadBalancePlanner.plan(masters: masters, thresholdPercent: 10)
        #expect(!moves.isEmpty)
        let after = figures.map(\.after)
        #expect(figures.map(\.before) == [35449, 1000, 1000])
        #expect(after.reduce(0, +) == 37449)
        // Whole slots of 2500: every master ends within one heavy slot of its share (12483).
        #expect(after.allSatisfy { abs($0 - 12483) <= 2500 }, "\(after)")
        // Nearly all of it leaves the heavy master, to both others.
        #expect(moves.filter { $0.from == "a" }.reduce(0) { $0 + $1.slots.count } >= 8)
        #expect(Set(moves.filter { $0.from == "a" }.map(\.to)) == ["bb", "ccc"])
    }

    @Test func anEvenClusterMovesNothing() {
        let masters = [master("a", 0...99, [1: 100]), master("bb", 100...199, [101: 101]), master("ccc", 200...299, [201: 99])]
        #expect(LoadBalancePlanner.plan(masters: masters, thresholdPercent: 5).moves.isEmpty)
    }

    @Test func weightsSetTheSharesAndOnlyReceiversTake() {
        var load: [Int: Double] = [:]
        for slot in 0..<300 { load[slot] = 10 }
        let masters = [master("a", 0...299, load), master("bb", 300...599, [:]), master("ccc", 600...899, [:])]
        let (moves, figures) = LoadBalancePlanner.plan(masters: masters, weights: ["a": 1, "bb": 2], thresholdPercent: 1,
                                                       receivers: ["bb"])
        #expect(moves.allSatisfy { $0.to == "bb" })
        // Shares by weight 1:2:1 of 3000 are 750, 1500, 750. ccc may not receive, so its share stays with the other
        // two, split so both end the same distance above their shares (the least total deviation).
        let a = figures.first { $0.id == "a" }!
        let bb = figures.first { $0.id == "bb" }!
        #expect(bb.target == 1500)
        #expect(bb.after > 1500 && a.after > 750)
        #expect(abs((a.after - a.target) - (bb.after - bb.target)) <= 10)
        #expect(figures.first { $0.id == "ccc" }?.after == 0)
    }

    @Test func slotsWithoutLoadNeverMove() {
        let masters = [master("a", 0...999, [:]), master("bb", 1000...1999, [:])]
        #expect(LoadBalancePlanner.plan(masters: masters, thresholdPercent: 0).moves.isEmpty)
    }
}
