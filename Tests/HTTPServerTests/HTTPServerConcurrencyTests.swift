import Foundation
import HTTPServer
import Synchronization
import Testing

@Suite struct HTTPServerConcurrencyTests {
    /// Answers `/slow` after `delay` seconds (signalling `started` first) and everything else at once.
    static func slowHandler(delay: Double, started: DispatchSemaphore) -> HTTPHandler {
        { request in
            if request.path == "/slow" {
                started.signal()
                Thread.sleep(forTimeInterval: delay)
            }
            return .text(200, request.path)
        }
    }

    @Test func aSlowHandlerDoesNotDelayOtherConnections() throws {
        let started = DispatchSemaphore(value: 0)
        let finished = Mutex<[String]>([])
        let slowDone = DispatchSemaphore(value: 0)
        try TestServer.with(handler: Self.slowHandler(delay: 3, started: started)) { server in
            let port = server.port
            Thread.detachNewThread {
                let response = try? TestClient(port: port).request("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                finished.withLock { $0.append(response?.text ?? "failed") }
                slowDone.signal()
            }
            #expect(started.wait(timeout: .now() + 10) == .success)
            let fast = try TestClient(port: port)
            try fast.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try fast.readResponse()
            finished.withLock { $0.append(response.text) }
            #expect(slowDone.wait(timeout: .now() + 10) == .success)
        }
        #expect(finished.withLock { $0 } == ["/fast", "/slow"])
    }

    @Test func handlersThatBlockLeaveTheOtherHandlerThreadsServing() throws {
        let release = DispatchSemaphore(value: 0)
        let blocked = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { request in
            if request.path == "/block" {
                blocked.signal()
                release.wait()
            }
            return .text(200, request.path)
        }
        // More handlers block than this machine keeps threads waiting on epoll (one per core, at least two), so spares
        // must step in; two threads are left over for the fast request.
        let blocking = max(2, ProcessInfo.processInfo.activeProcessorCount) + 1
        try TestServer.with({ $0.handlerThreads = blocking + 2 }, handler: handler) { server in
            let stuck = try (0..<blocking).map { _ in try TestClient(port: server.port) }
            for client in stuck {
                try client.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
            }
            for _ in stuck {
                #expect(blocked.wait(timeout: .now() + 10) == .success)
            }
            let fast = try TestClient(port: server.port)
            #expect(try fast.request("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n").text == "/fast")
            for _ in stuck {
                release.signal()
            }
            for client in stuck {
                #expect(try client.readResponse().text == "/block")
            }
        }
    }

    @Test func shutdownFinishesInFlightRequestsAndRefusesNewConnections() throws {
        let started = DispatchSemaphore(value: 0)
        var configuration = HTTPServerConfiguration(port: 0, shutdownGrace: 10, log: { _ in })
        configuration.idleTimeout = 60
        let server = HTTPServer(configuration: configuration, handler: Self.slowHandler(delay: 1.5, started: started))
        try server.start()
        let port = server.port

        let idle = try TestClient(port: port)
        try idle.send("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try idle.readResponse().status == 200)

        let busy = try TestClient(port: port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(started.wait(timeout: .now() + 10) == .success)

        let shutdownReturned = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            server.shutdown()
            shutdownReturned.signal()
        }
        // Shutdown closes the listener before the idle connections, so once the idle one is closed no new connection
        // is accepted; the slow request is still running.
        #expect(idle.isClosedByServer())
        #expect(server.isShuttingDown)
        #expect(!TestClient.canConnect(port: port))

        let response = try busy.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "/slow")
        #expect(response.header("Connection") == "close")
        #expect(busy.isClosedByServer())
        #expect(shutdownReturned.wait(timeout: .now() + 10) == .success)
        server.waitUntilStopped()
    }

    @Test func shutdownGivesUpOnHandlersAfterTheGrace() throws {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        // A handler that only returns when the test lets it: shutdown can come back only by giving up on it.
        let handler: HTTPHandler = { request in
            started.signal()
            release.wait()
            return .text(200, request.path)
        }
        let configuration = HTTPServerConfiguration(port: 0, shutdownGrace: 0.5, log: { _ in })
        let server = HTTPServer(configuration: configuration, handler: handler)
        try server.start()
        defer { release.signal() }
        let busy = try TestClient(port: server.port)
        try busy.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(started.wait(timeout: .now() + 10) == .success)
        let shutdownReturned = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            server.shutdown()
            shutdownReturned.signal()
        }
        #expect(shutdownReturned.wait(timeout: .now() + 30) == .success)
        // Force-closed with its handler still running: no response, just the end of the connection.
        #expect(busy.isClosedByServer())
    }

    @Test func shutdownBeforeStartStopsAtOnce() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0)) { _ in .text(200, "") }
        server.shutdown()
        server.waitUntilStopped()
        #expect(throws: HTTPServerError.self) { try server.start() }
    }
}
