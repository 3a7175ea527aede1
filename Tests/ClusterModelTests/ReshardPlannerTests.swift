import ClusterModel
import Testing

struct ReshardPlannerTests {
    typealias F = PlannerFixtures

    @Test("seed 001: 4096 slots from all three masters to the new 6387")
    func seedThreeToFour() throws {
        let sources = Array(F.threeFullOneEmpty.prefix(3))
        let moves = try ReshardPlanner.plan(sources: sources, target: F.d, count: 4096)
        // The 5462-slot master goes first and rounds up; the others round down.
        #expect(moves == [
            SlotMove(from: F.b, to: F.d, slots: SlotSet(ranges: [5461...6826])),
            SlotMove(from: F.a, to: F.d, slots: SlotSet(ranges: [0...1364])),
            SlotMove(from: F.c, to: F.d, slots: SlotSet(ranges: [10923...12287])),
        ])
        let after = F.apply(moves, to: F.threeFullOneEmpty)
        #expect(after[F.d] == SlotSet(ranges: [0...1364, 5461...6826, 10923...12287]))
        #expect(after[F.a] == SlotSet(ranges: [1365...5460]))
        #expect(after[F.b] == SlotSet(ranges: [6827...10922]))
        #expect(after[F.c] == SlotSet(ranges: [12288...16383]))
        #expect(after.values.allSatisfy { $0.count == 4096 })
    }

    @Test("'all' sources may include the target; it is left out")
    func targetAmongSourcesIsIgnored() throws {
        let moves = try ReshardPlanner.plan(sources: F.threeFullOneEmpty, target: F.d, count: 4096)
        #expect(moves.map(\.from) == [F.b, F.a, F.c])
        #expect(moves.allSatisfy { $0.to == F.d })
    }

    @Test("seed 001 scale-in: all of 6387's 4096 slots back to 6381")
    func seedScaleIn() throws {
        let sources = [F.fourAfterReshard[3]]
        let moves = try ReshardPlanner.plan(sources: sources, target: F.a, count: 4096)
        #expect(moves == [SlotMove(from: F.d, to: F.a, slots: SlotSet(ranges: [0...1364, 5461...6826, 10923...12287]))])
        #expect(F.apply(moves, to: F.fourAfterReshard)[F.a]?.count == 8192)
    }

    @Test("seed 004: 1365 of the drained node's slots to one master takes its lowest slots")
    func seedPartialDrain() throws {
        let moves = try ReshardPlanner.plan(sources: [F.fourAfterReshard[3]], target: F.c, count: 1365)
        #expect(moves == [SlotMove(from: F.d, to: F.c, slots: SlotSet(ranges: [0...1364]))])
    }

    @Test func oneSlotComesFromTheLargestSource() throws {
        let moves = try ReshardPlanner.plan(sources: Array(F.threeFullOneEmpty.prefix(3)), target: F.d, count: 1)
        #expect(moves == [SlotMove(from: F.b, to: F.d, slots: SlotSet([5461]))])
    }

    @Test("equal sources keep the given order; the first rounds up")
    func tiesKeepInputOrder() throws {
        let sources = [F.master(F.a, 6381, [0...99]), F.master(F.b, 6382, [100...199]), F.master(F.c, 6383, [200...299])]
        let moves = try ReshardPlanner.plan(sources: sources, target: F.d, count: 100)
        // 100/300*100 = 33.33: ceil 34 for the first, floor 33 for the others.
        #expect(moves == [
            SlotMove(from: F.a, to: F.d, slots: SlotSet(ranges: [0...33])),
            SlotMove(from: F.b, to: F.d, slots: SlotSet(ranges: [100...132])),
            SlotMove(from: F.c, to: F.d, slots: SlotSet(ranges: [200...232])),
        ])
    }

    @Test("like redis-cli, rounding down can leave the plan short of the requested count")
    func roundingShortfall() throws {
        let sources = [F.master(F.a, 6381, [0...9]), F.master(F.b, 6382, [10...19]), F.master(F.c, 6383, [20...29])]
        let moves = try ReshardPlanner.plan(sources: sources, target: F.d, count: 2)
        // 2/30*10 = 0.67: the first source gives 1, the others 0.
        #expect(moves == [SlotMove(from: F.a, to: F.d, slots: SlotSet([0]))])
    }

    @Test("every slot of every source can be requested")
    func everything() throws {
        let moves = try ReshardPlanner.plan(sources: Array(F.threeFullOneEmpty.prefix(3)), target: F.d, count: 16384)
        #expect(moves.reduce(0) { $0 + $1.slots.count } == 16384)
        #expect(F.apply(moves, to: F.threeFullOneEmpty)[F.d] == .all)
    }

    @Test("random plans never move more than asked, nor slots a source does not own")
    func propertyInvariants() throws {
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<200 {
            let cuts = (0..<3).map { _ in Int.random(in: 1..<HashSlot.count, using: &generator) }.sorted()
            let bounds = [0] + cuts + [HashSlot.count]
            let ids = [F.a, F.b, F.c, F.d]
            let sources = (0..<4).compactMap { i -> MasterSlots? in
                bounds[i] < bounds[i + 1] ? F.master(ids[i], 7000 + i, [bounds[i]...(bounds[i + 1] - 1)]) : nil
            }
            let count = Int.random(in: 1...HashSlot.count, using: &generator)
            let moves = try ReshardPlanner.plan(sources: sources, target: "f" + String(repeating: "0", count: 39), count: count)
            let moved = moves.reduce(0) { $0 + $1.slots.count }
            #expect(moved <= count)
            #expect(moved >= count - sources.count)
            for move in moves {
                let source = try #require(sources.first { $0.id == move.from })
                #expect(move.slots.subtracting(source.slots).isEmpty)
                #expect(move.slots == source.slots.first(move.slots.count))
            }
        }
    }

    @Test func errors() {
        let sources = Array(F.threeFullOneEmpty.prefix(3))
        #expect(throws: ClusterModelError.notEnoughSlots(requested: 16385, available: 16384)) {
            try ReshardPlanner.plan(sources: sources, target: F.d, count: 16385)
        }
        #expect(throws: ClusterModelError.notEnoughSlots(requested: 5462, available: 5461)) {
            try ReshardPlanner.plan(sources: [sources[0]], target: F.d, count: 5462)
        }
        #expect(throws: ClusterModelError.invalidArgument("the number of slots to move must be at least 1, got 0")) {
            try ReshardPlanner.plan(sources: sources, target: F.d, count: 0)
        }
        #expect(throws: ClusterModelError.invalidArgument("no source nodes given")) {
            try ReshardPlanner.plan(sources: [F.threeFullOneEmpty[3]], target: F.d, count: 1)
        }
        #expect(throws: ClusterModelError.invalidArgument("no target node given")) {
            try ReshardPlanner.plan(sources: sources, target: "", count: 1)
        }
    }

    @Test("explicit slot ranges move from whichever master owns each slot")
    func explicitSlots() throws {
        let slots = SlotSet(ranges: [16000...16383, 0...99, 5461...5470])
        let moves = try ReshardPlanner.plan(slots: slots, target: F.d, owners: F.threeFullOneEmpty)
        #expect(moves == [
            SlotMove(from: F.a, to: F.d, slots: SlotSet(ranges: [0...99])),
            SlotMove(from: F.b, to: F.d, slots: SlotSet(ranges: [5461...5470])),
            SlotMove(from: F.c, to: F.d, slots: SlotSet(ranges: [16000...16383])),
        ])
    }

    @Test("explicit ranges: slots already on the target are skipped")
    func explicitSkipsTargetSlots() throws {
        let moves = try ReshardPlanner.plan(
            slots: SlotSet(ranges: [0...2000]), target: F.d, owners: F.fourAfterReshard)
        #expect(moves == [SlotMove(from: F.a, to: F.d, slots: SlotSet(ranges: [1365...2000]))])
        #expect(try ReshardPlanner.plan(slots: SlotSet(ranges: [0...1364]), target: F.d, owners: F.fourAfterReshard)
            .isEmpty)
    }

    @Test func explicitErrors() throws {
        let partial = [F.master(F.a, 6381, [0...99]), F.master(F.d, 6387, [])]
        #expect(throws: ClusterModelError.unownedSlots(SlotSet(ranges: [100...200]))) {
            try ReshardPlanner.plan(slots: SlotSet(ranges: [50...200]), target: F.d, owners: partial)
        }
        #expect(ClusterModelError.unownedSlots(SlotSet(ranges: [100...200])).description.contains("100-200"))
        #expect(throws: ClusterModelError.unknownNode("nobody")) {
            try ReshardPlanner.plan(slots: SlotSet([1]), target: "nobody", owners: partial)
        }
        #expect(throws: ClusterModelError.invalidArgument("no slots given")) {
            try ReshardPlanner.plan(slots: SlotSet(), target: F.d, owners: partial)
        }
        #expect(throws: ClusterModelError.self) {
            try ReshardPlanner.plan(slots: SlotSet(ranges: [16000...17000]), target: F.d, owners: F.threeFullOneEmpty)
        }
        let overlapping = partial + [F.master(F.b, 6382, [50...60])]
        #expect(throws: ClusterModelError.self) {
            try ReshardPlanner.plan(slots: SlotSet(ranges: [0...99]), target: F.d, owners: overlapping)
        }
    }
}
