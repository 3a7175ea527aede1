import ClusterModel

/// How slots move: with the servers' atomic migration, or key by key with MIGRATE.
public enum MigrationMethod: Sendable, Equatable {
    case keys
    case atomic(AtomicMigrationKind)
}

/// How slots are moved.
public struct MigrationOptions: Sendable {
    /// Overwrite keys that exist on both sides with different values (BUSYKEY). Equal values are always replaced.
    public var replace: Bool
    /// Slots opened together; each batch is one round trip per node for each SETSLOT phase.
    public var slotsPerBatch: Int
    /// Keys per MIGRATE call, at most.
    public var keysPerMigrate: Int
    /// MIGRATE's own I/O timeout; big values (tens of MB) need seconds.
    public var migrateTimeoutMilliseconds: Int
    /// A throttle on the key-by-key path, over the whole job; nil for none.
    public var maxKeysPerSecond: Int?
    /// Key-by-key streams that run at once, at most.
    public var streams: Int
    /// Streams per source → target pair (each takes a share of the pair's slots).
    public var lanesPerPair: Int

    public init(replace: Bool = false, slotsPerBatch: Int = 128, keysPerMigrate: Int = 1000, migrateTimeoutMilliseconds: Int = 60000,
                maxKeysPerSecond: Int? = nil, streams: Int = 8, lanesPerPair: Int = 2) {
        self.replace = replace
        self.slotsPerBatch = slotsPerBatch
        self.keysPerMigrate = keysPerMigrate
        self.migrateTimeoutMilliseconds = migrateTimeoutMilliseconds
        self.maxKeysPerSecond = maxKeysPerSecond
        self.streams = max(1, streams)
        self.lanesPerPair = max(1, lanesPerPair)
    }
}
