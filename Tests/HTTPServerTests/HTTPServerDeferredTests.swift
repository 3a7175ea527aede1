import Foundation
import HTTPServer
import Synchronization
import Testing

@Suite struct HTTPServerDeferredTests {
    @Test func deferredResponseIsAnsweredFromAnotherThreadAndPipelinedRequestsWait() throws {
        let recorder = LogRecorder()
        let outcomes = Mutex<[Bool]>([])
        let handler: HTTPHandler = { request in
            guard request.path == "/later" else { return .text(200, "hello \(request.path)") }
            return .deferred { responder in
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                    let first = responder.respond(.text(200, "later"))
                    let second = responder.respond(.text(500, "again"))
                    let stream = responder.openStream(status: 200, headers: HTTPHeaders())
                    outcomes.withLock { $0 = [first, second, stream != nil] }
                }
            }
        }
        try TestServer.with({ $0.log = recorder.log }, handler: handler) { server in
            let client = try TestClient(port: server.port)
            // The second request is buffered behind the deferred one and answered after it.
            try client.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
            let deferred = try client.readResponse()
            let next = try client.readResponse()
            #expect(deferred.status == 200)
            #expect(deferred.text == "later")
            #expect(deferred.header("Connection") == nil)
            #expect(next.text == "hello /next")
            let id = try #require(deferred.header("X-Request-Id"))
            #expect(recorder.recorded.contains { $0.hasPrefix("\(id) GET /later 200 ") })
        }
        #expect(outcomes.withLock { $0 } == [true, false, false])
    }

    @Test func streamDeliversChunksAsTheyAreWrittenAndEndsWithClose() throws {
        let writers = Mutex<[HTTPStreamWriter]>([])
        let lateAnswers = Mutex<[Bool]>([])
        let opened = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { _ in
            .deferred { responder in
                let writer = responder.openStream(
                    status: 200, headers: HTTPHeaders([("Content-Type", "text/event-stream")]))
                writers.withLock { $0.append(contentsOf: writer.map { [$0] } ?? []) }
                let late = responder.respond(.text(200, "too late"))
                lateAnswers.withLock { $0.append(late) }
                opened.signal()
            }
        }
        try TestServer.with(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(opened.wait(timeout: .now() + 10) == .success)
            let writer = try #require(writers.withLock { $0.first })
            // A response after the stream opened is refused.
            #expect(lateAnswers.withLock { $0 } == [false])
            let head = try client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == nil)
            #expect(head.header("Connection") == "close")
            #expect(head.header("Content-Type") == "text/event-stream")

            // Each chunk reaches the client while the stream is still open.
            #expect(writer.write(Array("data: one\n\n".utf8)))
            #expect(String(decoding: try client.read(atLeast: 11), as: UTF8.self) == "data: one\n\n")
            #expect(writer.write(Array("data: two\n\n".utf8)))
            #expect(String(decoding: try client.read(atLeast: 11), as: UTF8.self) == "data: two\n\n")
            writer.write(Array("data: last\n\n".utf8))
            writer.finish()
            #expect(writer.write(Array("after".utf8)) == false)
            #expect(String(decoding: try client.readUntilClosed(), as: UTF8.self) == "data: last\n\n")
        }
    }

    @Test func peerClosingAParkedRequestIsReported() throws {
        let responders = TestResponders()
        let interruptions = InterruptionLog()
        try TestServer.with(handler: responders.handler) { server in
            var client: TestClient? = try TestClient(port: server.port)
            try client?.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(responders.waitForArrivals(1))
            let responder = try #require(responders.takeAll().first)
            responder.onInterrupt(interruptions.record)
            client = nil
            #expect(interruptions.wait() == [.peerClosed])
            #expect(responder.respond(.text(200, "nobody listens")) == false)

            // Registered after the fact: called at once.
            let late = InterruptionLog()
            responder.onInterrupt(late.record)
            #expect(late.wait(timeout: 0) == [.peerClosed])
        }
    }

    @Test func aParkedRequestOutlivesTheIdleAndHeaderTimeouts() throws {
        let responders = TestResponders()
        try TestServer.with({
            $0.idleTimeout = 0.3
            $0.headerTimeout = 0.3
        }, handler: responders.handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(responders.waitForArrivals(1))
            // Well past both timeouts: the application owns the request's lifetime.
            Thread.sleep(forTimeInterval: 1)
            let responder = try #require(responders.takeAll().first)
            #expect(responder.respond(.text(200, "still here")))
            #expect(try client.readResponse().text == "still here")
        }
    }

    @Test func shutdownInterruptsParkedRequestsAndTheirAnswersArrive() throws {
        let started = Mutex<[HTTPStreamWriter]>([])
        let parked = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { request in
            .deferred { responder in
                if request.path == "/stream" {
                    guard let writer = responder.openStream(status: 200, headers: HTTPHeaders()) else { return }
                    started.withLock { $0.append(writer) }
                    responder.onInterrupt { interruption in
                        writer.write(Array("stream saw \(interruption)".utf8))
                        writer.finish()
                    }
                } else {
                    responder.onInterrupt { interruption in
                        responder.respond(.text(200, "parked saw \(interruption)"))
                    }
                }
                parked.signal()
            }
        }
        var configuration = HTTPServerConfiguration(port: 0, shutdownGrace: 10, log: { _ in })
        configuration.idleTimeout = 60
        let server = HTTPServer(configuration: configuration, handler: handler)
        try server.start()
        let waiting = try (0..<3).map { _ in try TestClient(port: server.port) }
        for client in waiting {
            try client.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        }
        let streaming = try TestClient(port: server.port)
        try streaming.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in 0..<4 {
            #expect(parked.wait(timeout: .now() + 10) == .success)
        }
        #expect(try streaming.readResponse(head: true).status == 200)

        server.shutdown()

        for client in waiting {
            let response = try client.readResponse()
            #expect(response.text == "parked saw shuttingDown")
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())
        }
        #expect(String(decoding: try streaming.readUntilClosed(), as: UTF8.self) == "stream saw shuttingDown")
        #expect(started.withLock { $0.count } == 1)
    }

    @Test func aStreamWhosePeerStopsReadingIsClosed() throws {
        let interruptions = InterruptionLog()
        let writers = Mutex<[HTTPStreamWriter]>([])
        let opened = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { _ in
            .deferred { responder in
                responder.onInterrupt(interruptions.record)
                if let writer = responder.openStream(status: 200, headers: HTTPHeaders()) {
                    writers.withLock { $0.append(writer) }
                }
                opened.signal()
            }
        }
        try TestServer.with(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(opened.wait(timeout: .now() + 10) == .success)
            let writer = try #require(writers.withLock { $0.first })
            // The client never reads: socket buffers fill, then the bounded queue; the stream must end long before
            // 256 MiB have been offered.
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            var accepted = 0
            while accepted < 4096, writer.write(chunk) {
                accepted += 1
            }
            #expect(accepted < 4096)
            #expect(writer.write(chunk) == false)
            #expect(interruptions.wait() == [.peerClosed])
        }
    }
}
