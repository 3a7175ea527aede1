import Foundation
import HTTPServer
import Testing

/// Thousands of connections at once. Serialized so that the suites' descriptor use doesn't add up.
@Suite(.serialized) struct HTTPServerScaleTests {
    @Test func slowAndIdleConnectionsDoNotCrowdOutNormalRequests() throws {
        try TestServer.with { server in
            var held: [TestClient] = []
            for _ in 0..<300 {
                let slow = try TestClient(port: server.port)
                // A head that never ends: the connection waits out the header timeout.
                try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n")
                held.append(slow)
            }
            for _ in 0..<1000 {
                held.append(try TestClient(port: server.port))
            }
            // The held connections stay open while the normal requests are made.
            let statuses = try withExtendedLifetime(held) {
                try (0..<50).map { index in
                    try TestClient(port: server.port).request("GET /normal/\(index) HTTP/1.1\r\nHost: x\r\n\r\n").status
                }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
        }
    }

    @Test func servesFourThousandConnectionsHeldOpenAtOnce() throws {
        try TestServer.with({ $0.maxConnections = 4096 }) { server in
            let clients = try (0..<4096).map { _ in try TestClient(port: server.port) }
            for (index, client) in clients.enumerated() {
                try client.send("GET /c/\(index) HTTP/1.1\r\nHost: x\r\n\r\n")
            }
            var answered = 0
            for (index, client) in clients.enumerated() {
                let response = try client.readResponse()
                if response.status == 200, response.text == "hello /c/\(index)", response.header("Connection") == nil {
                    answered += 1
                }
            }
            #expect(answered == 4096)
        }
    }

    @Test func oneConnectionOverASmallCapGets503WithRetryAfter() throws {
        try TestServer.with({ $0.maxConnections = 64 }) { server in
            let clients = try (0..<64).map { _ in try TestClient(port: server.port) }
            for client in clients {
                #expect(try client.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 200)
            }
            let extra = try TestClient(port: server.port)
            try extra.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try extra.readResponse()
            #expect(response.status == 503)
            #expect(response.header("Retry-After") == "1")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(extra.isClosedByServer())
        }
    }

    @Test func twoThousandParkedRequestsHoldNoThreads() throws {
        let responders = TestResponders()
        try TestServer.with(handler: responders.handler) { server in
            let waiting = try (0..<2000).map { _ in try TestClient(port: server.port) }
            for client in waiting {
                try client.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            }
            #expect(responders.waitForArrivals(2000))

            let health = try TestClient(port: server.port)
            #expect(try health.request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status == 200)

            let parked = responders.takeAll()
            #expect(parked.count == 2000)
            // Answered from another thread than the handlers', in no particular order of connection.
            DispatchQueue.global().async {
                for responder in parked.reversed() {
                    responder.respond(.text(200, "released \(responder.requestID)"))
                }
            }
            var released = 0
            for client in waiting {
                let response = try client.readResponse()
                if response.status == 200, response.text == "released \(response.header("X-Request-Id") ?? "?")" {
                    released += 1
                }
            }
            #expect(released == 2000)
        }
    }
}
