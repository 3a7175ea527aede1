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
            // A byte every 200 ms, never finishing the head, until the server answers: the client is never quiet,
            // so only the deadline from the request's first byte can end it.
            let trickle = Array("GET / HTTP/1.1\r\nX-Trickle: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100)
            var answeredWhileSending = false
            for byte in trickle {
                try client.send([byte])
                if client.hasInput(within: 0.2) {
                    answeredWhileSending = true
                    break
                }
            }
            #expect(answeredWhileSending)
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(client.isClosedByServer())
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
            // Within the client's 5 s read timeout.
            #expect(used.isClosedByServer())

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

            // The first connection still works; once it's gone, its slot is free again (the server frees the slot
            // before it closes the socket, so the client seeing the close is enough).
            try first.send("GET /still HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try first.readResponse().text == "hello /still")
            #expect(first.isClosedByServer())
            let third = try TestClient(port: server.port)
            #expect(try third.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 200)
        }
    }
}
