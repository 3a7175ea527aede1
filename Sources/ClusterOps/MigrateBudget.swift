/// How many keys one round of MIGRATEs carries, adapted to how long rounds take: values of unknown size go in
/// bulk while rounds are quick and in small numbers once one is slow, so a big value never shares a round
/// trip with thousands of others and the source is never blocked for long.
struct MigrateBudget {
    /// Keys in one MIGRATE command.
    private(set) var keysPerMigrate: Int
    /// Keys in one round trip of MIGRATEs.
    private(set) var keysPerRoundTrip: Int
    private let maximumPerMigrate: Int
    private let ceiling: Int

    /// Rounds slower than this shrink the budget, rounds faster than a fifth of it grow it.
    static let slowRound = 0.25
    static let floor = 8

    init(keysPerMigrate perMigrate: Int, ceiling: Int? = nil) {
        maximumPerMigrate = max(1, perMigrate)
        self.ceiling = max(1, ceiling ?? 16384)
        keysPerMigrate = min(maximumPerMigrate, self.ceiling)
        keysPerRoundTrip = min(4096, self.ceiling)
    }

    mutating func record(keys: Int, seconds: Double) {
        if seconds > Self.slowRound, keys > Self.floor {
            keysPerRoundTrip = max(Self.floor, min(keysPerRoundTrip, keys) / 2)
            keysPerMigrate = max(1, min(keysPerMigrate, keysPerRoundTrip))
        } else if seconds < Self.slowRound / 5, keys >= keysPerRoundTrip / 2 {
            keysPerRoundTrip = min(ceiling, keysPerRoundTrip * 2)
            keysPerMigrate = min(maximumPerMigrate, ceiling, keysPerRoundTrip, max(keysPerMigrate * 2, keysPerRoundTrip / 16))
        }
    }
}
