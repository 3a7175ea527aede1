import Foundation
import Testing

@testable import HTTPServer

@Suite struct HTTPResponseTests {
    @Test func problemIsRFC9457JSON() throws {
        let error = HTTPError(409, "cluster \"a\" is busy\n", headers: HTTPHeaders([("Retry-After", "5")]))
        let response = HTTPResponse.problem(error)
        #expect(response.status == 409)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.headers["Retry-After"] == "5")
        let object = try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(object["type"] as? String == "about:blank")
        #expect(object["title"] as? String == "Conflict")
        #expect(object["status"] as? Int == 409)
        #expect(object["detail"] as? String == "cluster \"a\" is busy\n")
    }

    @Test func helpersSetContentType() {
        #expect(HTTPResponse.json(201, Array("{}".utf8)).headers["content-type"] == "application/json")
        let text = HTTPResponse.text(200, "hi")
        #expect(text.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(text.body == Array("hi".utf8))
    }

    @Test func wireFormatOwnsFramingAndDropsUnsafeFields() {
        var response = HTTPResponse.text(200, "body")
        response.headers.add("Content-Length", "999")
        response.headers.add("X-Evil", "a\r\nSet-Cookie: x")
        response.headers.add("X-Fine", "ok")
        let bytes = response.wireBytes(requestID: "rid", omitBody: false, connection: "close")
        let wire = String(decoding: bytes, as: UTF8.self)
        #expect(wire.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(wire.contains("Content-Length: 4\r\n"))
        #expect(!wire.contains("999"))
        #expect(!wire.contains("Set-Cookie"))
        #expect(wire.contains("X-Fine: ok\r\n"))
        #expect(wire.contains("X-Request-Id: rid\r\n"))
        #expect(wire.contains("Connection: close\r\n"))
        #expect(wire.contains("\r\nDate: "))
        #expect(wire.hasSuffix("\r\n\r\nbody"))
    }

    @Test func headAndNoContentCarryNoBody() {
        let headBytes = HTTPResponse.text(200, "abc").wireBytes(requestID: "r", omitBody: true, connection: nil)
        let head = String(decoding: headBytes, as: UTF8.self)
        #expect(head.contains("Content-Length: 3\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
        let noContentBytes = HTTPResponse(status: 204, body: [1]).wireBytes(requestID: "r", omitBody: false, connection: nil)
        let noContent = String(decoding: noContentBytes, as: UTF8.self)
        #expect(!noContent.contains("Content-Length"))
        #expect(noContent.hasSuffix("\r\n\r\n"))
    }

    @Test func dateIsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test func accessLogPathsCannotForgeLines() {
        #expect(Connection.loggable("/a b\n/c") == "/a%20b%0A/c")
        #expect(Connection.loggable("/ok") == "/ok")
    }
}
