import Testing

@testable import HTTPServer

@Suite struct HTTPRequestTests {
    @Test func decodesPathAndQuery() {
        let request = HTTPRequest(method: "GET", target: "/clusters/a%2Fb/x%20y?name=J%C3%B6rg+M&empty=&flag&n=1&n=2")
        #expect(request.path == "/clusters/a/b/x y")
        #expect(request.query("name") == "Jörg M")
        #expect(request.query("empty") == "")
        #expect(request.query("flag") == "")
        #expect(request.query("n") == "2")
        #expect(request.query("missing") == nil)
        #expect(request.queryItems.map(\.name) == ["name", "empty", "flag", "n", "n"])
    }

    @Test func plusIsLiteralInThePath() {
        #expect(HTTPRequest(method: "GET", target: "/a+b?q=a%2Bb").path == "/a+b")
        #expect(HTTPRequest(method: "GET", target: "/a+b?q=a%2Bb").query("q") == "a+b")
    }

    @Test func keepsMalformedEscapesLiterallyInProgrammaticRequests() {
        let request = HTTPRequest(method: "GET", target: "/100%/x?p=%zz")
        #expect(request.path == "/100%/x")
        #expect(request.queryItems.isEmpty)
    }

    @Test func assignsARequestIDAndDefaults() {
        let request = HTTPRequest(method: "GET", target: "/")
        #expect(request.requestID.count == 16)
        #expect(request.version == "HTTP/1.1")
        #expect(request.body.isEmpty)
        #expect(HTTPRequest(method: "GET", target: "/").requestID != request.requestID)
    }

    @Test func headersMatchNamesCaseInsensitivelyAndKeepOrder() {
        var headers = HTTPHeaders([("Accept", "a"), ("X-One", "1"), ("accept", "b")])
        #expect(headers["ACCEPT"] == "a")
        #expect(headers.values("accept") == ["a", "b"])
        headers.add("X-Two", "2")
        headers.set("Accept", "c")
        #expect(headers.map(\.name) == ["Accept", "X-One", "X-Two"])
        #expect(headers.values("accept") == ["c"])
        headers.remove("x-one")
        #expect(headers["X-One"] == nil)
        #expect(headers.count == 2)
        #expect(headers.contains(token: "close", in: "Connection") == false)
        headers.add("Connection", "keep-alive, Close")
        #expect(headers.contains(token: "close", in: "connection"))
    }
}
