import ClusterModel
import Foundation
import Testing

struct SlotSetTests {
    @Test func normalisesSortsAndMergesAdjacentAndOverlapping() {
        let set = SlotSet(ranges: [10923...16383, 0...5460, 5461...6000, 100...200, 7000...7000, 6999...6999])
        #expect(set.ranges == [0...6000, 6999...7000, 10923...16383])
        #expect(set.count == 6001 + 2 + 5461)
    }

    @Test func sortedInputStillMergesAdjacentAndOverlapping() {
        #expect(SlotSet(ranges: [0...5, 6...10, 12...12]).ranges == [0...10, 12...12])
        #expect(SlotSet(ranges: [0...5, 3...4, 8...9]).ranges == [0...5, 8...9])
        #expect(SlotSet(ranges: [0...5, 7...9]).ranges == [0...5, 7...9])
    }

    @Test func emptySet() {
        let set = SlotSet()
        #expect(set.isEmpty)
        #expect(set.count == 0)
        #expect(set.ranges.isEmpty)
        #expect(set.slots.isEmpty)
        #expect(set.description == "")
        #expect(set.lowest == nil)
        #expect(!set.contains(0))
    }

    @Test func fromIndividualSlots() {
        let set = SlotSet([5, 3, 4, 9, 9, 0])
        #expect(set.ranges == [0...0, 3...5, 9...9])
        #expect(set.slots == [0, 3, 4, 5, 9])
        #expect(set.lowest == 0)
    }

    @Test func allCoversEverySlot() {
        #expect(SlotSet.all.count == 16384)
        #expect(SlotSet.all.ranges == [0...16383])
        #expect(SlotSet.all.contains(0) && SlotSet.all.contains(16383))
        #expect(!SlotSet.all.contains(16384) && !SlotSet.all.contains(-1))
    }

    @Test func containsUsesRangeBounds() {
        let set = SlotSet(ranges: [0...1364, 5461...6826, 10923...12287])
        for slot in [0, 1364, 5461, 6000, 6826, 10923, 12287] {
            #expect(set.contains(slot))
        }
        for slot in [1365, 5460, 6827, 10922, 12288, 16383] {
            #expect(!set.contains(slot))
        }
    }

    @Test("description matches redis-cli's slot list format")
    func descriptionLikeRedis() {
        #expect(SlotSet(ranges: [0...5460]).description == "0-5460")
        #expect(SlotSet(ranges: [0...1364, 5461...6826, 10923...12287]).description == "0-1364,5461-6826,10923-12287")
        #expect(SlotSet([5461]).description == "5461")
        #expect(SlotSet(ranges: [0...5460, 5462...5462]).description == "0-5460,5462")
    }

    @Test func firstTakesLowestSlots() {
        let set = SlotSet(ranges: [0...1364, 5461...6826])
        #expect(set.first(0).isEmpty)
        #expect(set.first(-3).isEmpty)
        #expect(set.first(1) == SlotSet([0]))
        #expect(set.first(1365) == SlotSet(ranges: [0...1364]))
        #expect(set.first(1366) == SlotSet(ranges: [0...1364, 5461...5461]))
        #expect(set.first(100_000) == set)
    }

    @Test func algebraOnSeedRanges() {
        let a = SlotSet(ranges: [0...5460])
        let d = SlotSet(ranges: [0...1364, 5461...6826, 10923...12287])
        #expect(a.subtracting(d) == SlotSet(ranges: [1365...5460]))
        #expect(a.intersection(d) == SlotSet(ranges: [0...1364]))
        #expect(a.union(d) == SlotSet(ranges: [0...6826, 10923...12287]))
        #expect(SlotSet.all.subtracting(SlotSet.all).isEmpty)
        #expect(SlotSet().union(a) == a)
        #expect(a.intersection(SlotSet()).isEmpty)
        #expect(a.subtracting(SlotSet()) == a)
    }

    @Test func validatedAcceptsUserPairs() throws {
        let set = try SlotSet.validated([[5461, 6826], [0, 1364], [16383, 16383]])
        #expect(set.ranges == [0...1364, 5461...6826, 16383...16383])
        #expect(try SlotSet.validated([]).isEmpty)
    }

    @Test(arguments: [[[-1, 5]], [[0, 16384]], [[10, 9]], [[1]], [[1, 2, 3]], [[0, 1], []]])
    func validatedRejectsBadPairs(pairs: [[Int]]) {
        #expect(throws: ClusterModelError.self) { try SlotSet.validated(pairs) }
    }

    @Test func validatedErrorNamesTheRange() {
        #expect(throws: ClusterModelError.invalidSlotRange("[0, 16384] is outside 0...16383")) {
            try SlotSet.validated([[0, 16384]])
        }
    }

    @Test func encodesAsInclusivePairs() throws {
        let set = SlotSet(ranges: [5461...6826, 0...1364, 7000...7000])
        let json = String(decoding: try JSONEncoder().encode(set), as: UTF8.self)
        #expect(json == "[[0,1364],[5461,6826],[7000,7000]]")
        #expect(try JSONDecoder().decode(SlotSet.self, from: Data(json.utf8)) == set)
        #expect(String(decoding: try JSONEncoder().encode(SlotSet()), as: UTF8.self) == "[]")
    }

    @Test func decodingNormalisesAndValidates() throws {
        let decoded = try JSONDecoder().decode(SlotSet.self, from: Data("[[3,4],[0,2]]".utf8))
        #expect(decoded.ranges == [0...4])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SlotSet.self, from: Data("[[0,20000]]".utf8))
        }
    }

    @Test func hashableAndEquatableBySlots() {
        let a = SlotSet(ranges: [0...10, 11...20])
        let b = SlotSet(Array(0...20))
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != SlotSet(ranges: [0...19]))
    }

    @Test("algebra agrees with Set<Int> on random inputs")
    func propertyAlgebraMatchesSetOfInts() {
        var generator = SeededGenerator(seed: 0xC0FFEE)
        for _ in 0..<300 {
            let (a, aSlots) = randomSet(using: &generator)
            let (b, bSlots) = randomSet(using: &generator)
            #expect(a.union(b).slots == aSlots.union(bSlots).sorted())
            #expect(a.intersection(b).slots == aSlots.intersection(bSlots).sorted())
            #expect(a.subtracting(b).slots == aSlots.subtracting(bSlots).sorted())
            #expect(a.count == aSlots.count)
            #expect(a == SlotSet(aSlots))
            let probe = Int.random(in: 0..<HashSlot.count, using: &generator)
            #expect(a.contains(probe) == aSlots.contains(probe))
            let n = Int.random(in: 0...(aSlots.count + 2), using: &generator)
            #expect(a.first(n).slots == Array(aSlots.sorted().prefix(n)))
            assertNormalised(a.union(b))
            assertNormalised(a.subtracting(b))
            assertNormalised(a.intersection(b))
        }
    }

    @Test("set identities hold on random inputs")
    func propertyIdentities() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let (a, _) = randomSet(using: &generator)
            let (b, _) = randomSet(using: &generator)
            #expect(a.union(b) == b.union(a))
            #expect(a.intersection(b) == b.intersection(a))
            #expect(a.subtracting(b).union(a.intersection(b)) == a)
            #expect(a.subtracting(b).intersection(b).isEmpty)
            #expect(SlotSet.all.subtracting(SlotSet.all.subtracting(a)) == a)
            #expect(a.union(b).count == a.count + b.count - a.intersection(b).count)
        }
    }

    private func randomSet(using generator: inout SeededGenerator) -> (SlotSet, Set<Int>) {
        var ranges: [ClosedRange<Int>] = []
        var slots: Set<Int> = []
        for _ in 0..<Int.random(in: 0...8, using: &generator) {
            let start = Int.random(in: 0..<HashSlot.count, using: &generator)
            let end = min(HashSlot.count - 1, start + Int.random(in: 0...600, using: &generator))
            ranges.append(start...end)
            slots.formUnion(start...end)
        }
        return (SlotSet(ranges: ranges), slots)
    }

    private func assertNormalised(_ set: SlotSet) {
        for (left, right) in zip(set.ranges, set.ranges.dropFirst()) {
            #expect(left.upperBound + 1 < right.lowerBound)
        }
    }
}
