/// How slots are moved.
public struct MigrationOptions: Sendable {
    /// Overwrite keys that exist on both sides with different values (BUSYKEY). Equal values are always replaced.
    public var replace: Bool
    /// Slots opened together; each batch is one round trip per node for each SETSLOT phase.
    public var slotsPerBatch: Int
    /// Keys per MIGRATE call.
    public var keysPerMigrate: Int
    /// MIGRATE's own I/O timeout; big values (tens of MB) need seconds.
    public var migrateTimeoutMilliseconds: Int

    public init(replace: Bool = false, slotsPerBatch: Int = 128, keysPerMigrate: Int = 256, migrateTimeoutMilliseconds: Int = 60000) {
        self.replace = replace
        self.slotsPerBatch = slotsPerBatch
        self.keysPerMigrate = keysPerMigrate
        self.migrateTimeoutMilliseconds = migrateTimeoutMilliseconds
    }
}
