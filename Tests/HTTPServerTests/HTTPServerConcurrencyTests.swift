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
        try TestServer.with({ $0.handlerThreads = 8 }, handler: handler) { server in
            let stuck = try (0..<6).map { _ in try TestClient(port: server.port) }
            for client in stuck {
                try client.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
            }
            // More handlers are blocked than this machine keeps threads waiting on epoll: spares must step in.
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
        // Give shutdown a moment to close the listener; the slow request is still running.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(server.isShuttingDown)
        #expect(!TestClient.canConnect(port: port))
        #expect(idle.isClosedByServer())

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
        let configuration = HTTPServerConfiguration(port: 0, shutdownGrace: 0.5, log: { _ in })
        let server = HTTPServer(configuration: configuration, handler: Self.slowHandler(delay: 3, started: started))
        try server.start()
        let busy = try TestClient(port: server.port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(started.wait(timeout: .now() + 10) == .success)
        let begun = Date()
        server.shutdown()
        let elapsed = Date().timeIntervalSince(begun)
        #expect(elapsed >= 0.4)
        #expect(elapsed < 2.5)
        #expect(busy.isClosedByServer())
    }

    @Test func shutdownBeforeStartStopsAtOnce() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(port: 0)) { _ in .text(200, "") }
        server.shutdown()
        server.waitUntilStopped()
        #expect(throws: HTTPServerError.self) { try server.start() }
    }
}
