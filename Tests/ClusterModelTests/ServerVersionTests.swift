import ClusterModel
import Testing

@Suite struct ServerVersionTests {
    @Test func valkeyIsToldByItsOwnVersionNotTheRedisCompatibilityOne() {
        let info = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\nvalkey_release_stage:ga\r\n"
        let version = ServerVersion.parse(info: info)
        #expect(version == ServerVersion(product: .valkey, major: 9, minor: 1, patch: 2))
        #expect(version?.atomicMigration == .valkeyMigrateSlots)
        #expect(version?.description == "valkey 9.1.2")
    }

    @Test func redisVersionsBeforeEightFourHaveNoAtomicMigration() {
        let seven = ServerVersion.parse(info: "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n")
        #expect(seven == ServerVersion(product: .redis, major: 7, minor: 0, patch: 15))
        #expect(seven?.atomicMigration == nil)
        #expect(ServerVersion.parse(info: "redis_version:8.2.1\r\n")?.atomicMigration == nil)
        #expect(ServerVersion.parse(info: "redis_version:8.4.0\r\n")?.atomicMigration == .redisClusterMigration)
        #expect(ServerVersion.parse(info: "redis_version:9.0.0\r\n")?.atomicMigration == .redisClusterMigration)
        #expect(ServerVersion.parse(info: "server_name:valkey\r\nvalkey_version:8.1.3\r\n")?.atomicMigration == nil)
    }

    @Test func infoWithoutAVersionGivesNothing() {
        #expect(ServerVersion.parse(info: "") == nil)
        #expect(ServerVersion.parse(info: "# Server\r\nredis_version:garbage\r\n") == nil)
    }
}
