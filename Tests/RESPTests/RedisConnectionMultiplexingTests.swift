import Foundation
import Testing
import RESP

/// `RedisConnection.pipelines` (many connections read at once on one thread) and `isReusable`, against real
/// redis-server processes and a scripted peer.
@Suite(.serialized) struct RedisConnectionMultiplexingTests {
    private func args(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    @Test func everyConnectionGetsItsOwnRepliesInOrder() throws {
        let first = try RedisServerProcess()
        defer { first.stop() }
        let second = try RedisServerProcess()
        defer { second.stop() }
        let a = try RedisConnection(endpoint: first.endpoint)
        let b = try RedisConnection(endpoint: second.endpoint)
        _ = try a.command(["SET", "who", "first"])
        _ = try b.command(["SET", "who", "second"])
        // Big enough to need several reads, so replies of both servers interleave.
        let big = String(repeating: "x", count: 3_000_000)
        _ = try b.command(["SET", "big", big])

        let results = RedisConnection.pipelines([
            (a, [args("GET", "who"), args("INCR", "who"), args("PING")]),
            (b, [args("GET", "who"), args("GET", "big"), args("DBSIZE")]),
        ])
        #expect(results.count == 2)
        let fromA = try results[0].get()
        #expect(try fromA[0].get().string == "first")
        #expect(throws: RedisError.self) { try fromA[1].get() }
        #expect(try fromA[2].get() == .simpleString("PONG"))
        let fromB = try results[1].get()
        #expect(try fromB.map { try $0.get() } == [.bulkString(Array("second".utf8)), .bulkString(Array(big.utf8)), .integer(2)])
        // Both connections are usable afterwards: nothing was left unread.
        #expect(try a.command(["GET", "who"]).string == "first")
        #expect(try b.command(["DBSIZE"]).int == 2)
    }

    @Test func aBrokenPeerFailsOnlyItsOwnConnection() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let peer = try ScriptedPeer()
        let good = try RedisConnection(endpoint: server.endpoint)
        let garbled = try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port))
        let closed = try RedisConnection(endpoint: server.endpoint)
        closed.close()
        try peer.acceptAndSend(Array("?garbage\r\n".utf8))

        let results = RedisConnection.pipelines([(garbled, [args("PING")]), (good, [args("PING")]), (closed, [args("PING")]),
                                                 (good, [])])
        guard case .failure(.protocolError) = results[0] else {
            Issue.record("expected a protocol error, got \(results[0])")
            return
        }
        #expect(garbled.isClosed)
        #expect(try results[1].get().map { try $0.get() } == [.simpleString("PONG")])
        #expect(throws: RedisError.connectionClosed(endpoint: server.endpoint.description)) { try results[2].get() }
        #expect(try results[3].get().isEmpty)
    }

    @Test func aSilentPeerTimesOutWithoutHoldingUpTheOthers() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let peer = try ScriptedPeer()
        let silent = try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port), readTimeout: 0.3)
        let good = try RedisConnection(endpoint: server.endpoint)
        let results = RedisConnection.pipelines([(silent, [args("PING")]), (good, [args("PING")])])
        #expect(throws: RedisError.timeout(endpoint: silent.endpoint.description, operation: "read")) { try results[0].get() }
        #expect(silent.isClosed)
        #expect(try results[1].get().map { try $0.get() } == [.simpleString("PONG")])
    }

    @Test func aConnectionTheServerDroppedIsNotReusable() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let idle = try RedisConnection(endpoint: server.endpoint)
        let admin = try RedisConnection(endpoint: server.endpoint)
        #expect(idle.isReusable)
        let id = try #require(try idle.command(["CLIENT", "ID"]).int)
        #expect(idle.isReusable)
        #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        // The kill is carried out before its reply is sent, so the FIN is already on its way; wait for it (bounded).
        var reusable = true
        for _ in 0..<100 where reusable {
            reusable = idle.isReusable
            if reusable { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(!reusable)
        idle.close()
        #expect(!idle.isReusable)
    }
}
