/// Incremental HTTP/1.1 request parser (RFC 9112): `append` bytes as they arrive, take requests with `next`.
///
/// Deliberately strict: every framing shape that another HTTP implementation could read differently
/// (the raw material of request smuggling) is rejected rather than guessed at. After an error the
/// parser keeps throwing it, since the connection's framing can no longer be trusted.
public struct HTTPRequestParser {
    public let maxHeaderBytes: Int
    public let maxBodyBytes: Int

    private var buffer: [UInt8] = []
    /// First unconsumed byte of `buffer`; the offsets below are relative to it so compaction can't break them.
    private var start = 0
    /// How far the current line scan got, so bytes arriving one at a time aren't rescanned.
    private var scanned = 0
    /// Completed lines of the head being read, without their CRLF.
    private var headLines: [Range<Int>] = []
    private var skippedEmptyLines = 0
    private var phase = Phase.head
    private var body: [UInt8] = []
    private var trailerBytes = 0
    private var trailerCount = 0
    private var continueExpected = false
    private var failure: HTTPParseError?

    private static let maxHeaderCount = 100
    /// RFC 9112 §2.2 asks servers to skip "at least one" empty line before a request; a few is plenty.
    private static let maxLeadingEmptyLines = 4
    private static let maxChunkLineBytes = 1024

    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Some bytes of a request that isn't complete yet are buffered.
    public var hasPartialRequest: Bool {
        if case .head = phase {
            return start < buffer.count
        }
        return true
    }

    /// The head is complete and the body is still arriving.
    public var isReadingBody: Bool {
        if case .head = phase {
            return false
        }
        return true
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, or nil until more bytes arrive; bytes after it stay buffered (pipelining).
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        if let failure {
            throw failure
        }
        do throws(HTTPParseError) {
            return try step()
        } catch {
            failure = error
            throw error
        }
    }

    /// True once per request whose head asked for `100-continue` and whose body hasn't fully arrived.
    mutating func takeContinueExpectation() -> Bool {
        defer { continueExpected = false }
        return continueExpected && isReadingBody
    }

    private mutating func step() throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch phase {
            case .head:
                guard let head = try scanHead() else { return nil }
                switch head.framing {
                case .none:
                    return finish(head)
                case .length(let length):
                    phase = .fixedBody(head, remaining: length)
                case .chunked:
                    phase = .chunkSize(head)
                }
                continueExpected = head.expectsContinue
            case .fixedBody(let head, let remaining):
                let count = min(remaining, buffer.count - start)
                guard count > 0 else { return nil }
                body.append(contentsOf: buffer[start..<(start + count)])
                start += count
                guard remaining > count else { return finish(head) }
                phase = .fixedBody(head, remaining: remaining - count)
                return nil
            case .chunkSize(let head):
                let tooLong = HTTPParseError.badRequest("chunk size line too long")
                guard let line = try takeLine(limit: Self.maxChunkLineBytes, tooLong: tooLong) else { return nil }
                let size = try Self.chunkSize(buffer[line])
                if size == 0 {
                    phase = .trailers(head)
                } else {
                    guard size <= maxBodyBytes - body.count else { throw Self.bodyTooLarge(maxBodyBytes) }
                    phase = .chunkData(head, remaining: size)
                }
            case .chunkData(let head, let remaining):
                let count = min(remaining, buffer.count - start)
                guard count > 0 else { return nil }
                body.append(contentsOf: buffer[start..<(start + count)])
                start += count
                phase = remaining > count ? .chunkData(head, remaining: remaining - count) : .chunkDataEnd(head)
            case .chunkDataEnd(let head):
                let available = buffer.count - start
                if available >= 1, buffer[start] != Byte.cr {
                    throw .badRequest("chunk data not followed by CRLF")
                }
                guard available >= 2 else { return nil }
                guard buffer[start + 1] == Byte.lf else { throw .badRequest("chunk data not followed by CRLF") }
                start += 2
                phase = .chunkSize(head)
            case .trailers(let head):
                let tooLarge = HTTPParseError(status: 431, detail: "trailer section too large")
                guard let line = try takeLine(limit: maxHeaderBytes, tooLong: tooLarge) else { return nil }
                if line.isEmpty {
                    return finish(head)
                }
                trailerBytes += line.count + 2
                trailerCount += 1
                guard trailerBytes <= maxHeaderBytes, trailerCount <= Self.maxHeaderCount else { throw tooLarge }
                // Trailers are validated like headers but dropped: nothing here needs them.
                _ = try Self.field(buffer[line])
            }
        }
    }

    private mutating func finish(_ head: Head) -> HTTPRequest {
        let request = HTTPRequest(
            method: head.method, target: head.target, version: head.version, headers: head.headers,
            body: body, path: head.path, queryItems: head.queryItems)
        body = []
        phase = .head
        trailerBytes = 0
        trailerCount = 0
        continueExpected = false
        return request
    }

    /// Collects head lines up to the empty line that ends them, then parses the head.
    private mutating func scanHead() throws(HTTPParseError) -> Head? {
        while true {
            // The limit is checked against what is buffered, so an endless header is refused without waiting for its end.
            let searchEnd = min(buffer.count, start + maxHeaderBytes)
            guard start + scanned < searchEnd,
                let lf = buffer[(start + scanned)..<searchEnd].firstIndex(of: Byte.lf)
            else {
                if buffer.count - start >= maxHeaderBytes {
                    throw HTTPParseError(status: 431, detail: "request line and headers exceed \(maxHeaderBytes) bytes")
                }
                scanned = max(0, searchEnd - start)
                return nil
            }
            let lineStart = headLines.last.map { $0.upperBound + 2 } ?? 0
            let lfOffset = lf - start
            guard lfOffset > lineStart, buffer[lf - 1] == Byte.cr else {
                throw .badRequest("line not terminated by CRLF")
            }
            let line = lineStart..<(lfOffset - 1)
            scanned = lfOffset + 1
            if !line.isEmpty {
                headLines.append(line)
                guard headLines.count <= Self.maxHeaderCount + 1 else {
                    throw HTTPParseError(status: 431, detail: "more than \(Self.maxHeaderCount) header fields")
                }
                continue
            }
            if headLines.isEmpty {
                skippedEmptyLines += 1
                guard skippedEmptyLines <= Self.maxLeadingEmptyLines else {
                    throw .badRequest("too many empty lines before the request line")
                }
                start += scanned
                scanned = 0
                continue
            }
            let head = try parseHead()
            start += scanned
            scanned = 0
            headLines = []
            skippedEmptyLines = 0
            return head
        }
    }

    /// Takes one CRLF-terminated line (chunk size or trailer) and returns its absolute range without the CRLF.
    private mutating func takeLine(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        let searchEnd = min(buffer.count, start + limit + 2)
        guard start + scanned < searchEnd,
            let lf = buffer[(start + scanned)..<searchEnd].firstIndex(of: Byte.lf)
        else {
            if buffer.count - start >= limit + 2 {
                throw tooLong
            }
            scanned = max(0, searchEnd - start)
            return nil
        }
        guard lf > start, buffer[lf - 1] == Byte.cr else { throw .badRequest("line not terminated by CRLF") }
        let line = start..<(lf - 1)
        start = lf + 1
        scanned = 0
        return line
    }

    private func parseHead() throws(HTTPParseError) -> Head {
        let requestLine = buffer[(start + headLines[0].lowerBound)..<(start + headLines[0].upperBound)]
        let parts = requestLine.split(separator: Byte.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .badRequest("malformed request line") }
        let (methodBytes, targetBytes, versionBytes) = (parts[0], parts[1], parts[2])

        guard !methodBytes.isEmpty, methodBytes.allSatisfy(Byte.isTokenCharacter) else {
            throw .badRequest("invalid method")
        }
        let version = try Self.version(versionBytes)
        let method = String(decoding: methodBytes, as: UTF8.self)
        let (target, path, queryItems) = try Self.target(targetBytes, method: method)

        var headers = HTTPHeaders()
        for line in headLines.dropFirst() {
            let (name, value) = try Self.field(buffer[(start + line.lowerBound)..<(start + line.upperBound)])
            headers.add(name, value)
        }

        let hosts = headers.values("Host")
        guard hosts.count <= 1, version == "HTTP/1.0" || hosts.count == 1 else {
            throw .badRequest("an HTTP/1.1 request needs exactly one Host header")
        }
        guard hosts.allSatisfy({ $0.utf8.allSatisfy(Byte.isHostCharacter) }) else {
            throw .badRequest("invalid Host header")
        }

        let framing = try framing(headers, version: version)
        let expectsContinue =
            version == "HTTP/1.1" && framing != .none
            && headers["Expect"].map { $0.lowercased() == "100-continue" } == true
        return Head(
            method: method, target: target, version: version, headers: headers, path: path,
            queryItems: queryItems, framing: framing, expectsContinue: expectsContinue)
    }

    /// How the body is delimited (RFC 9112 §6.3), refusing every ambiguous combination.
    private func framing(_ headers: HTTPHeaders, version: String) throws(HTTPParseError) -> Framing {
        let transferEncodings = headers.values("Transfer-Encoding")
        let contentLengths = headers.values("Content-Length")
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else {
                throw .badRequest("both Transfer-Encoding and Content-Length")
            }
            guard version == "HTTP/1.1" else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            let codings = transferEncodings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { $0.trimmingOWS.lowercased() }
            guard codings == ["chunked"] else {
                throw HTTPParseError(status: 501, detail: "only the chunked transfer coding is supported")
            }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return .none }
        guard contentLengths.count == 1 else { throw .badRequest("more than one Content-Length") }
        guard let length = Self.decimal(contentLengths[0]) else { throw .badRequest("invalid Content-Length") }
        guard length <= maxBodyBytes else { throw Self.bodyTooLarge(maxBodyBytes) }
        return length == 0 ? .none : .length(length)
    }

    private static func version(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> String {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), text[6] == UInt8(ascii: "."),
            Byte.isDigit(text[5]), Byte.isDigit(text[7])
        else { throw .badRequest("malformed HTTP version") }
        let version = String(decoding: text, as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(status: 505, detail: "\(version) is not supported")
        }
        return version
    }

    private static func target(
        _ bytes: ArraySlice<UInt8>,
        method: String
    ) throws(HTTPParseError) -> (target: String, path: String, queryItems: [(name: String, value: String)]) {
        // Visible ASCII only; '#' never belongs in a request-target (RFC 9112 §3.2).
        guard bytes.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "#") }) else {
            throw .badRequest("invalid character in request target")
        }
        let target = String(decoding: bytes, as: UTF8.self)
        if target == "*" {
            guard method == "OPTIONS" else { throw .badRequest("asterisk-form is only valid for OPTIONS") }
            return (target, target, [])
        }
        let lowered = target.prefix(8).lowercased()
        guard target.hasPrefix("/") || lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw .badRequest("invalid request target")
        }
        let components = RequestTarget.components(of: target)
        guard let path = RequestTarget.decode(components.path, plusAsSpace: false) else {
            throw .badRequest("invalid percent-encoding in path")
        }
        guard let queryItems = components.query.map(RequestTarget.queryItems) ?? [] else {
            throw .badRequest("invalid percent-encoding in query")
        }
        return (target, path, queryItems)
    }

    /// `name: value` with RFC 9110 §5 rules: token name directly followed by the colon, no obs-fold, no controls.
    private static func field(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first, first != Byte.space, first != Byte.tab else {
            throw .badRequest("obsolete line folding is not accepted")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .badRequest("header line without colon") }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(Byte.isTokenCharacter) else {
            throw .badRequest("invalid header name")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == Byte.space || byte == Byte.tab {
            value.removeFirst()
        }
        while let byte = value.last, byte == Byte.space || byte == Byte.tab {
            value.removeLast()
        }
        guard value.allSatisfy({ $0 == Byte.tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .badRequest("invalid character in header value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// `1*HEXDIG [ chunk-ext ]`; extensions are checked for stray controls and then ignored.
    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = RequestTarget.hexValue(line[index]) {
            let (shifted, overflow) = size.multipliedReportingOverflow(by: 16)
            guard !overflow else { throw .badRequest("chunk size too large") }
            size = shifted + Int(digit)
            index += 1
        }
        guard index > line.startIndex else { throw .badRequest("invalid chunk size") }
        let extensions = line[index...].drop { $0 == Byte.space || $0 == Byte.tab }
        guard extensions.isEmpty || extensions.first == UInt8(ascii: ";") else {
            throw .badRequest("invalid chunk size")
        }
        guard extensions.allSatisfy({ $0 == Byte.tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .badRequest("invalid character in chunk extension")
        }
        return size
    }

    private static func decimal(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard Byte.isDigit(byte) else { return nil }
            let (shifted, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAdding) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflowed, !overflowedAdding else { return nil }
            value = sum
        }
        return value
    }

    private static func bodyTooLarge(_ limit: Int) -> HTTPParseError {
        HTTPParseError(status: 413, detail: "request body exceeds \(limit) bytes")
    }
}

extension HTTPRequestParser {
    private enum Phase {
        case head
        case fixedBody(Head, remaining: Int)
        case chunkSize(Head)
        case chunkData(Head, remaining: Int)
        case chunkDataEnd(Head)
        case trailers(Head)
    }

    private enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    private struct Head {
        var method: String
        var target: String
        var version: String
        var headers: HTTPHeaders
        var path: String
        var queryItems: [(name: String, value: String)]
        var framing: Framing
        var expectsContinue: Bool
    }
}
