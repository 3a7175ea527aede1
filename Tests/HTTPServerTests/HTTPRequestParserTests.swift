import Testing

@testable import HTTPServer

/// Everything observable about a request except its random id, for comparing parses.
func summary(_ request: HTTPRequest) -> String {
    let headers = request.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
    let query = request.queryItems.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    return "\(request.method)|\(request.target)|\(request.path)|\(query)|\(request.version)|\(headers)|"
        + String(decoding: request.body, as: UTF8.self)
}

/// Feeds `pieces` one after another and collects every request parsed along the way.
func parseAll(_ pieces: [[UInt8]], parser: HTTPRequestParser = HTTPRequestParser()) throws -> [HTTPRequest] {
    var parser = parser
    var requests: [HTTPRequest] = []
    for piece in pieces {
        parser.append(piece)
        while let request = try parser.next() {
            requests.append(request)
        }
    }
    return requests
}

@Suite struct HTTPRequestParserTests {
    static let post = Array(
        ("POST /a%20b/c?x=1&y=%41+B HTTP/1.1\r\nHost: example\r\nContent-Length: 11\r\n"
            + "X-Tag:  padded value \t\r\n\r\nhello world").utf8)

    static let chunked = Array(
        ("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\nA ; a=\"b\"\r\n, world!!!\r\n0\r\nChecksum: abc\r\nOther: x\r\n\r\n").utf8)

    @Test func parsesAWholeRequest() throws {
        let requests = try parseAll([Self.post])
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == "POST")
        #expect(request.target == "/a%20b/c?x=1&y=%41+B")
        #expect(request.path == "/a b/c")
        #expect(request.query("y") == "A B")
        #expect(request.headers["host"] == "example")
        #expect(request.headers["X-TAG"] == "padded value")
        #expect(request.body == Array("hello world".utf8))
        #expect(request.version == "HTTP/1.1")
    }

    @Test func everyTwoWaySplitGivesTheSameRequest() throws {
        let expected = try summary(#require(parseAll([Self.post]).first))
        for cut in 0...Self.post.count {
            let requests = try parseAll([Array(Self.post[..<cut]), Array(Self.post[cut...])])
            #expect(requests.map(summary) == [expected], "split at \(cut)")
        }
    }

    @Test func byteByByteGivesTheSameRequest() throws {
        let expected = try summary(#require(parseAll([Self.post]).first))
        let requests = try parseAll(Self.post.map { [$0] })
        #expect(requests.map(summary) == [expected])
    }

    @Test func nothingIsReturnedBeforeTheBodyIsComplete() throws {
        var parser = HTTPRequestParser()
        parser.append(Self.post.dropLast())
        #expect(try parser.next() == nil)
        #expect(parser.hasPartialRequest)
        #expect(parser.isReadingBody)
        parser.append(Self.post.suffix(1))
        #expect(try parser.next() != nil)
        #expect(!parser.hasPartialRequest)
        #expect(!parser.isReadingBody)
    }

    @Test func pipelinedRequestsComeOutInOrder() throws {
        let stream = Array(
            ("GET /first HTTP/1.1\r\nHost: h\r\n\r\n" + "POST /second HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                + "DELETE /third HTTP/1.1\r\nHost: h\r\n\r\nGET /partial").utf8)
        var parser = HTTPRequestParser()
        parser.append(stream)
        var paths: [String] = []
        while let request = try parser.next() {
            paths.append(request.path)
        }
        #expect(paths == ["/first", "/second", "/third"])
        #expect(parser.hasPartialRequest)
    }

    @Test func decodesChunkedBodiesWithExtensionsAndTrailers() throws {
        let requests = try parseAll([Self.chunked + Array("GET /next HTTP/1.1\r\nHost: h\r\n\r\n".utf8)])
        #expect(requests.count == 2)
        #expect(requests.first?.body == Array("hello, world!!!".utf8))
        #expect(requests.first?.headers["Checksum"] == nil)
        #expect(requests.last?.path == "/next")
    }

    @Test func chunkedSplitAtEveryPositionGivesTheSameRequest() throws {
        let expected = try summary(#require(parseAll([Self.chunked]).first))
        for cut in 0...Self.chunked.count {
            let requests = try parseAll([Array(Self.chunked[..<cut]), Array(Self.chunked[cut...])])
            #expect(requests.map(summary) == [expected], "split at \(cut)")
        }
        #expect(try parseAll(Self.chunked.map { [$0] }).map(summary) == [expected])
    }

    @Test func skipsLeadingEmptyLines() throws {
        let requests = try parseAll([Array("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8)])
        #expect(requests.map(\.path) == ["/"])
    }

    @Test func acceptsHTTP10WithoutHost() throws {
        let requests = try parseAll([Array("GET /old HTTP/1.0\r\n\r\n".utf8)])
        #expect(requests.map(\.version) == ["HTTP/1.0"])
    }

    @Test func acceptsAbsoluteFormAndAsteriskForm() throws {
        let requests = try parseAll([
            Array("GET http://example.com/x/y?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8),
            Array("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n".utf8),
        ])
        #expect(requests.map(\.path) == ["/x/y", "*"])
        #expect(requests.first?.query("q") == "1")
    }

    @Test func takesAWellFormedRequestIDAndReplacesAHostileOne() throws {
        let requests = try parseAll([
            Array("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc-123\r\n\r\n".utf8),
            Array("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: a b<script>\r\n\r\n".utf8),
        ])
        #expect(requests.first?.requestID == "abc-123")
        let generated = try #require(requests.last?.requestID)
        #expect(generated.count == 16)
        #expect(generated.allSatisfy { $0.isHexDigit })
    }

    @Test func requestsContinueOnlyWhileTheBodyIsMissing() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        let first = parser.takeContinueExpectation()
        let second = parser.takeContinueExpectation()
        #expect(first)
        #expect(!second)
        parser.append(Array("ok".utf8))
        #expect(try parser.next()?.body == Array("ok".utf8))
    }
}
