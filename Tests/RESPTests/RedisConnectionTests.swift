import Foundation
import Testing
import RESP

/// Runs against real redis-server processes started per test; serialized to go easy on small CI machines.
@Suite(.serialized) struct RedisConnectionTests {
    @Test func setGetRoundTripWithBinaryAndLargeValues() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        #expect(try connection.command(["SET", "greeting", "hello"]) == .simpleString("OK"))
        #expect(try connection.command(["GET", "greeting"]).string == "hello")
        #expect(try connection.command(["GET", "missing"]) == .null)

        let binary: [UInt8] = [0, 13, 10, 36, 45, 49, 13, 10, 255]
        _ = try connection.command(bytes: [Array("SET".utf8), Array("binary".utf8), binary])
        #expect(try connection.command(["GET", "binary"]) == .bulkString(binary))

        let large = (0..<20_000_000).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 11)) }
        _ = try connection.command(bytes: [Array("SET".utf8), Array("large".utf8), large])
        #expect(try connection.command(["STRLEN", "large"]).int == 20_000_000)
        #expect(try connection.command(["GET", "large"]).bytes == large)
        #expect(try connection.command(["PING"]) == .simpleString("PONG"))
    }

    @Test func pipelineReturnsOneResultPerCommandInOrder() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        let increments = Array(repeating: [Array("INCR".utf8), Array("counter".utf8)], count: 1000)
        let results = try connection.pipeline(increments)
        #expect(results.count == 1000)
        #expect(results.map { try? $0.get().int } == (1...1000).map { Optional(Int64($0)) })

        let mixed = try connection.pipeline([
            bytesArgs("SET", "text", "abc"), bytesArgs("INCR", "text"), bytesArgs("GET", "text"),
        ])
        #expect(try mixed[0].get() == .simpleString("OK"))
        #expect(throws: RedisError.server(code: "ERR", message: "ERR value is not an integer or out of range")) {
            try mixed[1].get()
        }
        #expect(try mixed[2].get().string == "abc")
        #expect(try connection.pipeline([]).isEmpty)
    }

    @Test func errorReplyIsThrownAndConnectionStaysUsable() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        _ = try connection.command(["SET", "text", "abc"])
        let error = #expect(throws: RedisError.self) { try connection.command(["LPUSH", "text", "x"]) }
        guard case .server(let code, let message) = error else {
            Issue.record("expected a server error, got \(String(describing: error))")
            return
        }
        #expect(code == "WRONGTYPE")
        #expect(message.hasPrefix("WRONGTYPE "))
        #expect(!connection.isClosed)
        #expect(try connection.command(["GET", "text"]).string == "abc")
    }

    @Test func requirePassAuthentication() throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "hunter2"])
        defer { server.stop() }

        let anonymous = try RedisConnection(endpoint: server.endpoint)
        let noAuth = #expect(throws: RedisError.self) { try anonymous.command(["GET", "k"]) }
        guard case .noAuth(let text) = noAuth else {
            Issue.record("expected noAuth, got \(String(describing: noAuth))")
            return
        }
        #expect(text.hasPrefix("NOAUTH"))

        let wrong = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: server.endpoint, credentials: RedisCredentials(password: "nope"))
        }
        guard case .wrongPass = wrong else {
            Issue.record("expected wrongPass, got \(String(describing: wrong))")
            return
        }
        #expect(!String(describing: wrong).contains("nope"))

        let authenticated = try RedisConnection(
            endpoint: server.endpoint, credentials: RedisCredentials(password: "hunter2"))
        #expect(try authenticated.command(["PING"]) == .simpleString("PONG"))
    }

    @Test func aclUserAuthentication() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let admin = try RedisConnection(endpoint: server.endpoint)
        #expect(try admin.command(["ACL", "SETUSER", "alice", "on", ">secret", "~*", "&*", "+@all"]) == .simpleString("OK"))

        let alice = try RedisConnection(
            endpoint: server.endpoint, credentials: RedisCredentials(username: "alice", password: "secret"))
        #expect(try alice.command(["ACL", "WHOAMI"]).string == "alice")

        #expect(throws: RedisError.wrongPass("WRONGPASS invalid username-password pair or user is disabled.")) {
            _ = try RedisConnection(
                endpoint: server.endpoint, credentials: RedisCredentials(username: "alice", password: "guess"))
        }
    }

    @Test func passwordWithoutServerPasswordIsAServerError() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: server.endpoint, credentials: RedisCredentials(password: "x"))
        }
        guard case .server(let code, _) = error else {
            Issue.record("expected a server error, got \(String(describing: error))")
            return
        }
        #expect(code == "ERR")
    }

    @Test func connectingToAClosedPortFailsQuickly() throws {
        let port = try RedisServerProcess.freeLoopbackPort()
        let started = ContinuousClock.now
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: port))
        }
        #expect(ContinuousClock.now - started < .seconds(1))
        guard case .connectFailed(let endpoint, _) = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(endpoint == "127.0.0.1:\(port)")
    }

    @Test func readTimeoutClosesTheConnection() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint, readTimeout: 0.5)
        let started = ContinuousClock.now
        #expect(throws: RedisError.timeout(endpoint: server.endpoint.description, operation: "read")) {
            try connection.command(["BLPOP", "empty-list", "5"])
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(3))
        #expect(connection.isClosed)
        #expect(throws: RedisError.connectionClosed(endpoint: server.endpoint.description)) {
            try connection.command(["PING"])
        }
    }

    @Test func readTimeoutIsAdjustable() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint, readTimeout: 0.2)
        connection.readTimeout = 3
        #expect(try connection.command(["BLPOP", "empty-list", "0.5"]) == .null)
    }

    @Test func serverSideDisconnectIsReported() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let victim = try RedisConnection(endpoint: server.endpoint)
        let admin = try RedisConnection(endpoint: server.endpoint)
        let id = try #require(try victim.command(["CLIENT", "ID"]).int)
        #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        #expect(throws: RedisError.connectionClosed(endpoint: server.endpoint.description)) {
            try victim.command(["PING"])
        }
        #expect(victim.isClosed)
    }

    @Test func closeIsIdempotentAndFailsLaterCommands() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        #expect(!connection.isClosed)
        connection.close()
        connection.close()
        #expect(connection.isClosed)
        #expect(throws: RedisError.connectionClosed(endpoint: server.endpoint.description)) {
            try connection.pipeline([bytesArgs("PING")])
        }
    }

    @Test func invalidReplyIsAProtocolErrorAndClosesTheConnection() throws {
        let peer = try ScriptedPeer()
        let endpoint = RedisEndpoint(host: "127.0.0.1", port: peer.port)
        let connection = try RedisConnection(endpoint: endpoint)
        try peer.acceptAndSend(Array("*2\r\n+OK\r\n?garbage\r\n".utf8))
        let error = #expect(throws: RedisError.self) { try connection.command(["PING"]) }
        guard case .protocolError(let reported, _) = error else {
            Issue.record("expected protocolError, got \(String(describing: error))")
            return
        }
        #expect(reported == endpoint.description)
        #expect(connection.isClosed)
    }

    @Test func unservedSlotOnClusterNodeIsClusterDown() throws {
        let server = try RedisServerProcess(cluster: true)
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        #expect(try connection.command(["CLUSTER", "ADDSLOTSRANGE", "0", "100"]) == .simpleString("OK"))
        #expect(try connection.command(["CLUSTER", "KEYSLOT", "foo"]) == .integer(12182))
        #expect(throws: RedisError.clusterDown("CLUSTERDOWN Hash slot not served")) {
            try connection.command(["GET", "foo"])
        }
        #expect(!connection.isClosed)
    }

    @Test func slotServedByAnotherNodeIsMoved() throws {
        let nodeA = try RedisServerProcess(cluster: true)
        defer { nodeA.stop() }
        let nodeB = try RedisServerProcess(cluster: true)
        defer { nodeB.stop() }
        let a = try RedisConnection(endpoint: nodeA.endpoint)
        let b = try RedisConnection(endpoint: nodeB.endpoint)
        _ = try a.command(["CLUSTER", "ADDSLOTSRANGE", "0", "100"])
        _ = try b.command(["CLUSTER", "ADDSLOTSRANGE", "101", "16383"])
        _ = try a.command(["CLUSTER", "MEET", "127.0.0.1", String(nodeB.port)])

        // Slot ownership spreads by gossip; wait (bounded) until A redirects instead of refusing.
        var last: RedisError?
        for _ in 0..<100 {
            do throws(RedisError) {
                _ = try a.command(["GET", "foo"])
            } catch {
                last = error
                if case .moved = error { break }
            }
            usleep(100_000)
        }
        #expect(last == .moved(slot: 12182, endpoint: nodeB.endpoint.description))
        guard case .moved(_, let target) = last else { return }
        #expect(RedisEndpoint(target) == nodeB.endpoint)
    }
}

private func bytesArgs(_ args: String...) -> [[UInt8]] {
    args.map { Array($0.utf8) }
}
