import Foundation
import HTTPServer
import Testing

@Suite struct HTTPServerLimitTests {
    @Test func oversizedHeadersGet431AndClose() throws {
        try TestServer.with({ $0.maxHeaderBytes = 512 }) { server in
            let client = try TestClient(port: server.port)
            // The head never ends: the server must answer from the size alone.
            try client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 2000))
            let response = try client.readResponse()
            #expect(response.status == 431)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())
        }
    }

    @Test func oversizedBodyGets413BeforeItIsSent() throws {
        try TestServer.with({ $0.maxBodyBytes = 1024 }) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
            try client.send(String(repeating: "b", count: 4096))
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(client.isClosedByServer())
        }
    }

    @Test func malformedRequestGets400ProblemAndClose() throws {
        try TestServer.with { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.text.contains("\"status\":400"))
            #expect(client.isClosedByServer())
        }
    }

    @Test func slowlorisGets408AtTheHeaderDeadline() throws {
        try TestServer.with({ $0.headerTimeout = 1 }) { server in
            let client = try TestClient(port: server.port)
            let started = Date()
            // One byte every 200 ms for 2 s: always active, never finishing the head.
            for byte in "GET / HTTP/1.1\r\n".utf8.prefix(10) {
                try? client.send([byte])
                usleep(200_000)
            }
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(client.isClosedByServer())
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    @Test func slowBodyGets408() throws {
        try TestServer.with({ $0.bodyTimeout = 1 }) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(client.isClosedByServer())
        }
    }

    @Test func idleConnectionIsClosedWithoutAResponse() throws {
        try TestServer.with({ $0.idleTimeout = 1 }) { server in
            let used = try TestClient(port: server.port, timeout: 5)
            try used.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try used.readResponse().status == 200)
            let started = Date()
            #expect(used.isClosedByServer())
            #expect(Date().timeIntervalSince(started) < 4)

            let silent = try TestClient(port: server.port, timeout: 5)
            #expect(silent.isClosedByServer())
        }
    }

    @Test func connectionsOverTheCapGet503() throws {
        try TestServer.with({ $0.maxConnections = 1 }) { server in
            let first = try TestClient(port: server.port)
            try first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try first.readResponse().status == 200)

            let second = try TestClient(port: server.port)
            try second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            let rejected = try second.readResponse()
            #expect(rejected.status == 503)
            #expect(rejected.header("Content-Type") == "application/problem+json")
            #expect(second.isClosedByServer())

            // The first connection still works; once it's gone, its slot is free again.
            try first.send("GET /still HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try first.readResponse().text == "hello /still")
            #expect(first.isClosedByServer())
            var status = 0
            for _ in 0..<50 where status != 200 {
                let third = try TestClient(port: server.port)
                try third.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                status = try third.readResponse().status
                usleep(50_000)
            }
            #expect(status == 200)
        }
    }
}
