import Testing

@testable import HTTPServer

/// The status a parser reports for `raw`, or nil if it parsed (or is still waiting).
func parseStatus(_ raw: String, maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20) -> Int? {
    var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
    parser.append(Array(raw.utf8))
    do {
        while try parser.next() != nil {}
        return nil
    } catch {
        return error.status
    }
}

@Suite struct HTTPRequestParserHostileTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var raw: String
        var status: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "Content-Length and Transfer-Encoding",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            status: 400),
        Case(
            name: "differing Content-Lengths",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400),
        Case(
            name: "identical duplicate Content-Lengths",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", status: 400),
        Case(name: "Content-Length list", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", status: 400),
        Case(name: "negative Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400),
        Case(name: "plus-signed Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", status: 400),
        Case(name: "garbage Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3x\r\n\r\nabc", status: 400),
        Case(name: "empty Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", status: 400),
        Case(
            name: "overflowing Content-Length",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", status: 400),
        Case(
            name: "non-hex chunk size",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(
            name: "overflowing chunk size",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab\r\n", status: 400),
        Case(
            name: "chunk size with a sign",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(
            name: "chunk data without CRLF",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", status: 400),
        Case(
            name: "unknown transfer coding",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501),
        Case(
            name: "chunked not alone",
            raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501),
        Case(
            name: "Transfer-Encoding in HTTP/1.0",
            raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "bare LF line endings", raw: "GET / HTTP/1.1\nHost: h\n\n", status: 400),
        Case(name: "bare LF in one header", raw: "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", status: 400),
        Case(name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400),
        Case(name: "obs-fold", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n", status: 400),
        Case(name: "NUL in header value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{0}b\r\n\r\n", status: 400),
        Case(name: "CR inside header value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", status: 400),
        Case(name: "empty header name", raw: "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", status: 400),
        Case(name: "missing Host on 1.1", raw: "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", status: 400),
        Case(name: "two Host headers", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
        Case(name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", status: 505),
        Case(name: "HTTP/0.9 style", raw: "GET /\r\n\r\n", status: 400),
        Case(name: "lowercase version", raw: "GET / http/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(name: "invalid method", raw: "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(name: "double space in request line", raw: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(name: "relative target", raw: "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(name: "asterisk for GET", raw: "GET * HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(name: "bad percent-escape", raw: "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(name: "non-ASCII target", raw: "GET /caf\u{E9} HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Case(
            name: "too many leading empty lines", raw: String(repeating: "\r\n", count: 10) + "GET / HTTP/1.1\r\n",
            status: 400),
        Case(
            name: "too many headers",
            raw: "GET / HTTP/1.1\r\nHost: h\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n", status: 431),
    ]

    @Test(arguments: cases) func rejects(_ testCase: Case) {
        #expect(parseStatus(testCase.raw) == testCase.status)
    }

    @Test func oversizedHeadersAreRefusedBeforeTheyEnd() {
        let start = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "a", count: 200)
        #expect(parseStatus(start, maxHeaderBytes: 100) == 431)
        #expect(parseStatus(start, maxHeaderBytes: 1000) == nil)
    }

    @Test func anOversizedRequestLineWithoutNewlineIsRefused() {
        #expect(parseStatus("GET /" + String(repeating: "a", count: 300), maxHeaderBytes: 256) == 431)
    }

    @Test func oversizedContentLengthIsRefusedBeforeTheBody() {
        #expect(parseStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", maxBodyBytes: 10) == 413)
        #expect(parseStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", maxBodyBytes: 10) == nil)
    }

    @Test func oversizedChunkedBodyIsRefusedAtTheChunkThatCrossesTheLimit() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parseStatus(head + "8\r\n12345678\r\n8\r\n", maxBodyBytes: 10) == 413)
        #expect(parseStatus(head + "5\r\n12345\r\n5\r\n12345\r\n0\r\n\r\n", maxBodyBytes: 10) == nil)
    }

    @Test func errorsAreSticky() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\nHost: h\n\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test func hostileInputNeverCrashes() {
        // Random mixes of valid and hostile fragments must end in a request, a wait or a known status, never a trap.
        var generator = SystemRandomNumberGenerator()
        let fragments = ["GET ", "/", " HTTP/1.1", "\r\n", "\n", "Host: h", "Content-Length: ", "9999999999999999999",
            "Transfer-Encoding: chunked", "ffffffffffffffff", ":", " ", "\0", "%", "0\r\n\r\n"]
        let knownStatuses: Set<Int?> = [nil, 400, 413, 431, 501, 505]
        for _ in 0..<2000 {
            let raw = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                fragments.randomElement(using: &generator) ?? ""
            }.joined()
            let status = parseStatus(raw, maxHeaderBytes: 64, maxBodyBytes: 16)
            #expect(knownStatuses.contains(status), "\(raw.debugDescription) gave \(String(describing: status))")
        }
    }
}
