@testable import ClusterOps
import ClusterModel
import Testing

/// How many keys a round of MIGRATEs carries, and how key-by-key moves are grouped into streams.
@Suite struct MigrateBudgetTests {
    @Test func startsAtTheConfiguredSizes() {
        let budget = MigrateBudget(keysPerMigrate: 100)
        #expect(budget.keysPerMigrate == 100)
        #expect(budget.keysPerRoundTrip == 4096)
    }

    @Test func aSlowRoundHalvesTheKeysItCarried() {
        var budget = MigrateBudget(keysPerMigrate: 100)
        budget.record(keys: 4096, seconds: 0.3)
        #expect(budget.keysPerRoundTrip == 2048)
        #expect(budget.keysPerMigrate == 100)
        // A slow round that carried fewer keys than allowed shrinks to half of what it carried.
        budget.record(keys: 100, seconds: 1)
        #expect(budget.keysPerRoundTrip == 50)
        #expect(budget.keysPerMigrate == 50)
    }

    @Test func aRoundOfExactlyTheThresholdIsNotSlow() {
        var budget = MigrateBudget(keysPerMigrate: 100)
        budget.record(keys: 4096, seconds: MigrateBudget.slowRound)
        #expect(budget.keysPerRoundTrip == 4096)
        #expect(budget.keysPerMigrate == 100)
    }

    @Test func neverShrinksBelowTheFloor() {
        var budget = MigrateBudget(keysPerMigrate: 100)
        for _ in 0..<40 {
            budget.record(keys: budget.keysPerRoundTrip, seconds: 5)
            #expect(budget.keysPerRoundTrip >= MigrateBudget.floor)
            #expect(budget.keysPerMigrate >= 1)
            #expect(budget.keysPerMigrate <= budget.keysPerRoundTrip)
        }
        #expect(budget.keysPerRoundTrip == MigrateBudget.floor)
        #expect(budget.keysPerMigrate == MigrateBudget.floor)
        // One big value per round: slow, but nothing left to take away.
        budget.record(keys: 1, seconds: 30)
        #expect(budget.keysPerRoundTrip == MigrateBudget.floor)
        // Half of a slow round's 10 keys is 5: the floor still holds.
        var fresh = MigrateBudget(keysPerMigrate: 100)
        fresh.record(keys: 10, seconds: 1)
        #expect(fresh.keysPerRoundTrip == MigrateBudget.floor)
        #expect(fresh.keysPerMigrate == MigrateBudget.floor)
    }

    @Test func growsBackAfterFastRounds() {
        var budget = MigrateBudget(keysPerMigrate: 100)
        for _ in 0..<20 { budget.record(keys: budget.keysPerRoundTrip, seconds: 1) }
        #expect(budget.keysPerRoundTrip == MigrateBudget.floor)
        var sizes: [Int] = []
        for _ in 0..<20 {
            budget.record(keys: budget.keysPerRoundTrip, seconds: 0.01)
            sizes.append(budget.keysPerRoundTrip)
        }
        #expect(Array(sizes.prefix(4)) == [16, 32, 64, 128])
        #expect(sizes.last == 16384)
        #expect(budget.keysPerMigrate == 100)
    }

    @Test func aFastButSmallRoundDoesNotGrowTheBudget() {
        var budget = MigrateBudget(keysPerMigrate: 100)
        budget.record(keys: 2000, seconds: 0.001)
        #expect(budget.keysPerRoundTrip == 4096)
        // Neither fast nor slow: unchanged.
        budget.record(keys: 4096, seconds: 0.1)
        #expect(budget.keysPerRoundTrip == 4096)
        budget.record(keys: 2048, seconds: 0.01)
        #expect(budget.keysPerRoundTrip == 8192)
    }

    @Test(arguments: [1, 50, 1000])
    func theThrottleCeilingBoundsEverySize(ceiling: Int) {
        var budget = MigrateBudget(keysPerMigrate: 100, ceiling: ceiling)
        #expect(budget.keysPerRoundTrip <= ceiling)
        #expect(budget.keysPerMigrate <= ceiling)
        for round in 0..<30 {
            budget.record(keys: budget.keysPerRoundTrip, seconds: round % 7 == 0 ? 1 : 0.001)
            #expect(budget.keysPerRoundTrip <= ceiling)
            #expect(budget.keysPerMigrate <= ceiling)
            #expect(budget.keysPerMigrate >= 1)
        }
        // Fast rounds bring it back up to the ceiling, not past it.
        for _ in 0..<30 { budget.record(keys: budget.keysPerRoundTrip, seconds: 0.001) }
        #expect(budget.keysPerRoundTrip == ceiling)
        #expect(budget.keysPerMigrate <= min(100, ceiling))
    }

    /// max_keys_per_second 10000 makes the ceiling 1000 keys, the default keys_per_migrate: one slow round halves
    /// both sizes, fast rounds bring the round trip back to 1000 keys, but MIGRATE stays at 500 keys for good,
    /// because it only grows back through keysPerRoundTrip / 16 (at most 62 here).
    @Test func keysPerMigrateGrowsBackUnderAThrottle() {
        var budget = MigrateBudget(keysPerMigrate: 1000, ceiling: 1000)
        #expect(budget.keysPerMigrate == 1000)
        budget.record(keys: 1000, seconds: 1)
        #expect(budget.keysPerRoundTrip == 500)
        #expect(budget.keysPerMigrate == 500)
        for _ in 0..<10 { budget.record(keys: budget.keysPerRoundTrip, seconds: 0.001) }
        #expect(budget.keysPerRoundTrip == 1000)
        #expect(budget.keysPerMigrate == 1000)
    }

    @Test func aCeilingBelowTheFloorStillWins() {
        var budget = MigrateBudget(keysPerMigrate: 10, ceiling: 4)
        #expect(budget.keysPerRoundTrip == 4)
        budget.record(keys: 4, seconds: 0.001)
        #expect(budget.keysPerRoundTrip == 4)
        budget.record(keys: 4, seconds: 1)
        #expect(budget.keysPerRoundTrip == 4)
        #expect(budget.keysPerMigrate == 4)
    }

    // MARK: - Streams

    @Test func pairsMergeMovesPerSourceAndTargetInFirstSeenOrder() {
        let a = "a", b = "b", c = "c"
        let moves = [
            SlotMove(from: a, to: b, slots: SlotSet.of(0...9)),
            SlotMove(from: c, to: b, slots: SlotSet.of(100...109)),
            SlotMove(from: a, to: c, slots: SlotSet.of(20...29)),
            SlotMove(from: a, to: b, slots: SlotSet.of(10...19, 40...40)),
            SlotMove(from: b, to: a, slots: SlotSet()),
            SlotMove(from: c, to: b, slots: SlotSet.of(200...200)),
        ]
        #expect(SlotMoveRunner.pairs(moves) == [
            SlotMove(from: a, to: b, slots: SlotSet.of(0...19, 40...40)),
            SlotMove(from: c, to: b, slots: SlotSet.of(100...109, 200...200)),
            SlotMove(from: a, to: c, slots: SlotSet.of(20...29)),
        ])
        #expect(SlotMoveRunner.pairs([]) == [])
        #expect(SlotMoveRunner.pairs([SlotMove(from: a, to: b, slots: SlotSet())]) == [])
    }
}
