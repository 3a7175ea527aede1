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
    /// MIGRATE's timeout on a first try, when set: short, because the source blocks while a MIGRATE waits, so a
    /// frozen target would hold it (and make the cluster flag it as failing) for the whole long timeout. A MIGRATE
    /// that times out while its target still answers PING is sent again once with `migrateTimeoutMilliseconds`
    /// (a big value that takes long to restore).
    public var firstMigrateTimeoutMilliseconds: Int?
    /// A throttle on the key-by-key path, over the whole job; nil for none.
    public var maxKeysPerSecond: Int?
    /// Key-by-key streams that run at once, at most.
    public var streams: Int
    /// Streams per source → target pair (each takes a share of the pair's slots).
    public var lanesPerPair: Int

    public init(replace: Bool = false, slotsPerBatch: Int = 128, keysPerMigrate: Int = 1000, migrateTimeoutMilliseconds: Int = 60000,
                maxKeysPerSecond: Int? = nil, streams: Int = 8, lanesPerPair: Int = 2, firstMigrateTimeoutMilliseconds: Int? = nil) {
        self.replace = replace
        self.slotsPerBatch = slotsPerBatch
        self.keysPerMigrate = keysPerMigrate
        self.migrateTimeoutMilliseconds = migrateTimeoutMilliseconds
        self.maxKeysPerSecond = maxKeysPerSecond
        self.streams = max(1, streams)
        self.lanesPerPair = max(1, lanesPerPair)
        self.firstMigrateTimeoutMilliseconds = firstMigrateTimeoutMilliseconds
    }
}
