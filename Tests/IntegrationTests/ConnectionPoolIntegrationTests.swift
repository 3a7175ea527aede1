import ClusterModel
import ClusterOps
import Foundation
import RESP
import Testing

/// Pooled connections against real cluster nodes: warm reads and convergence waits open no connection, and
/// credentials keep clusters' connections apart.
@Suite(.serialized)
struct ConnectionPoolIntegrationTests {
    /// `total_connections_received` of each node, read over connections opened beforehand (so reading it opens none).
    static func connectionsReceived(_ probes: [RedisConnection]) throws -> [Int] {
        try probes.map { probe in
            let info = try probe.command(["INFO", "stats"]).string ?? ""
            guard let value = InfoFields.parse(info)["total_connections_received"].flatMap(Int.init) else {
                throw TestFailure("\(probe.endpoint): no total_connections_received in INFO stats")
            }
            return value
        }
    }

    @Test func warmTopologyReadsAndConvergenceWaitsOpenNoConnection() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let probes = try cluster.nodes.map { try RedisConnection(endpoint: RedisEndpoint($0.address)!) }
        let settings = ConnectionSettings()
        let seeds = [RedisEndpoint(cluster.nodes[0].address)!]

        let first = TopologyReader(access: settings.access(seeds: seeds, credentials: nil)).read()
        #expect(first.nodes.count == 3 && first.checks.ok, "\(first.checks.messages)")
        let before = try Self.connectionsReceived(probes)

        for _ in 0..<5 {
            let topology = TopologyReader(access: settings.access(seeds: seeds, credentials: nil)).read()
            #expect(topology.nodes.filter(\.reachable).count == 3)
        }
        // A job's session: its steps, its own topology reads and a convergence wait take the pooled connections...
        let session = ClusterSession(access: settings.access(seeds: seeds, credentials: nil))
        let converged = try session.waitForConvergence(timeout: 10)
        #expect(converged.summary.slotsAssigned == 16384)
        #expect(try session.view(cluster.nodes[1].address).nodes.count == 3)
        _ = session.topology()
        session.close()
        // ...and give them back for the API's next read, through another copy of the settings.
        let copy = settings
        #expect(TopologyReader(access: copy.access(seeds: seeds, credentials: nil)).read().checks.ok)

        #expect(try Self.connectionsReceived(probes) == before)
        #expect(settings.pool.idleCount == 3)
    }

    @Test func aConnectionAuthenticatedForOneClusterIsNeverHandedToAnother() throws {
        let alpha = try TestCluster(nodes: 1, password: "alpha-secret")
        defer { alpha.stop() }
        let beta = try TestCluster(nodes: 1, password: "beta-secret")
        defer { beta.stop() }
        for lone in [alpha, beta] {
            #expect(try lone.nodes[0].cli(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).contains("OK"))
        }
        let settings = ConnectionSettings()
        let alphaSeed = [RedisEndpoint(alpha.nodes[0].address)!]
        let betaSeed = [RedisEndpoint(beta.nodes[0].address)!]
        let alphaCredentials = RedisCredentials(password: "alpha-secret")
        let betaCredentials = RedisCredentials(password: "beta-secret")

        let readAlpha = TopologyReader(access: settings.access(seeds: alphaSeed, credentials: alphaCredentials)).observe()
        #expect(readAlpha.map(\.error) == [nil])
        let readBeta = TopologyReader(access: settings.access(seeds: betaSeed, credentials: betaCredentials)).observe()
        #expect(readBeta.map(\.error) == [nil])
        #expect(settings.pool.idleCount == 2)

        // Beta's credentials at alpha's address (a cluster registered again with another password, or a node
        // moved to another cluster): the idle connection authenticated for alpha must not serve it.
        let crossed = TopologyReader(access: settings.access(seeds: alphaSeed, credentials: betaCredentials)).observe()
        #expect(crossed.count == 1)
        #expect(crossed.first?.nodes == nil)
        #expect(crossed.first?.error?.contains("WRONGPASS") == true || crossed.first?.error?.contains("invalid") == true,
                "\(String(describing: crossed.first?.error))")
        let session = ClusterSession(access: settings.access(seeds: betaSeed, credentials: alphaCredentials))
        #expect(throws: ClusterOpsError.self) { try session.call(beta.nodes[0].address, ["PING"], idempotent: true) }
        session.close()

        // Alpha's own connection is still there for alpha.
        #expect(TopologyReader(access: settings.access(seeds: alphaSeed, credentials: alphaCredentials)).observe().map(\.error) == [nil])
        #expect(settings.pool.idleCount == 2)
    }

    @Test func onlyHealthyConnectionsGoBackAndIdleOnesAreBoundedAndExpire() throws {
        let cluster = try TestCluster(nodes: 1)
        defer { cluster.stop() }
        let endpoint = RedisEndpoint(cluster.nodes[0].address)!
        let pool = ConnectionPool(maxIdlePerKey: 2, idleExpiry: .seconds(60))
        func checkout() throws -> RedisConnection {
            try pool.checkout(endpoint, credentials: nil, connectTimeout: 2, readTimeout: 5)
        }
        func clientId(_ connection: RedisConnection) throws -> Int64 {
            try #require(try connection.command(["CLIENT", "ID"]).int)
        }

        let first = try checkout()
        let firstId = try clientId(first)
        pool.checkin(first)
        let again = try checkout()
        #expect(try clientId(again) == firstId)
        #expect(again.readTimeout == 5)

        // A connection that timed out is closed by the client and never returns to the pool.
        again.readTimeout = 0.2
        #expect(throws: RedisError.timeout(endpoint: endpoint.description, operation: "read")) { try again.command(["WAIT", "1", "2000"]) }
        pool.checkin(again)
        #expect(pool.idleCount == 0)
        let fresh = try checkout()
        #expect(try clientId(fresh) != firstId)

        // At most two idle per node: the third is closed on check-in.
        let more = [fresh, try checkout(), try checkout()]
        more.forEach(pool.checkin)
        #expect(pool.idleCount == 2)
        pool.closeIdle()
        #expect(pool.idleCount == 0)

        // An idle connection past its expiry is closed instead of reused.
        let shortLived = ConnectionPool(maxIdlePerKey: 2, idleExpiry: .milliseconds(1))
        let old = try shortLived.checkout(endpoint, credentials: nil, connectTimeout: 2, readTimeout: 5)
        let oldId = try clientId(old)
        shortLived.checkin(old)
        Thread.sleep(forTimeInterval: 0.05)
        let replacement = try shortLived.checkout(endpoint, credentials: nil, connectTimeout: 2, readTimeout: 5)
        #expect(try clientId(replacement) != oldId)
        #expect(old.isClosed)
    }
}
