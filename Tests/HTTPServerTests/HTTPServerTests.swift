import Foundation
import Glibc
import HTTPServer
import Synchronization
import Testing

@Suite struct HTTPServerTests {
    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        try TestServer.with { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try client.readResponse()
            try client.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
            let second = try client.readResponse()
            #expect(first.status == 200)
            #expect(first.text == "hello /a")
            #expect(first.header("Connection") == nil)
            #expect(first.header("Date") != nil)
            #expect(first.header("X-Request-Id")?.isEmpty == false)
            #expect(second.text == "hello /b")
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try TestServer.with { server in
            let client = try TestClient(port: server.port)
            try client.send(
                "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
                    + "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
            let bodies = try (0..<3).map { _ in try client.readResponse().text }
            #expect(bodies == ["hello /1", "hello /2", "hello /3"])
        }
    }

    @Test func http10AndConnectionCloseEndTheConnection() throws {
        try TestServer.with { server in
            let old = try TestClient(port: server.port)
            try old.send("GET /old HTTP/1.0\r\n\r\n")
            #expect(try old.readResponse().header("Connection") == "close")
            #expect(old.isClosedByServer())

            let closing = try TestClient(port: server.port)
            try closing.send("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try closing.readResponse().header("Connection") == "close")
            #expect(closing.isClosedByServer())

            let keepAlive10 = try TestClient(port: server.port)
            try keepAlive10.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive10.readResponse().header("Connection") == "keep-alive")
            try keepAlive10.send("GET /b HTTP/1.0\r\n\r\n")
            #expect(try keepAlive10.readResponse().text == "hello /b")
        }
    }

    @Test func headSendsContentLengthButNoBody() throws {
        try TestServer.with { server in
            let client = try TestClient(port: server.port)
            try client.send("HEAD /thing HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try client.readResponse(head: true)
            // Had the body been sent, it would be read as the start of the next response and fail to parse.
            let next = try client.readResponse()
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "\("hello /thing".utf8.count)")
            #expect(next.text == "hello /next")
        }
    }

    @Test func chunkedUploadWithExpectContinue() throws {
        try TestServer.with(handler: { request in HTTPResponse(status: 200, body: request.body) }) { server in
            let client = try TestClient(port: server.port)
            try client.send(
                "PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            try client.send("4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n")
            #expect(try client.readResponse().text == "wikipedia")
        }
    }

    @Test func writesOneAccessLogLinePerRequest() throws {
        let recorder = LogRecorder()
        let response = try withLogging(recorder) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /secret%20path?password=hunter2 HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nhunter2")
            return try client.readResponse()
        }
        let id = try #require(response.header("X-Request-Id"))
        let lines = recorder.recorded
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("\(id) POST /secret%20path 200 "))
        #expect(line.hasSuffix("ms"))
        #expect(!line.contains("hunter2"))
    }

    @Test func listensOnIPv6() throws {
        try TestServer.with({ $0.host = "::1" }) { server in
            let client = try TestClient(port: server.port, host: "::1")
            try client.send("GET /v6 HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            #expect(try client.readResponse().text == "hello /v6")
        }
    }

    @Test func reportsBindFailuresAndBadAddresses() throws {
        try TestServer.with { server in
            let second = HTTPServer(configuration: HTTPServerConfiguration(port: server.port)) { _ in .text(200, "") }
            #expect {
                try second.start()
            } throws: { error in
                guard case .systemCall(let call, _, let code) = error as? HTTPServerError else { return false }
                return call == "bind" && code == EADDRINUSE
            }
        }
        let invalid = HTTPServer(configuration: HTTPServerConfiguration(host: "not-an-ip", port: 0)) { _ in .text(200, "") }
        #expect {
            try invalid.start()
        } throws: { error in
            (error as? HTTPServerError).map { "\($0)" }?.contains("not-an-ip") == true
        }
    }

    private func withLogging(
        _ recorder: LogRecorder,
        _ body: (HTTPServer) throws -> TestClient.Response
    ) throws -> TestClient.Response {
        var response: TestClient.Response?
        try TestServer.with({ $0.log = recorder.log }) { server in
            response = try body(server)
        }
        return try #require(response)
    }
}
