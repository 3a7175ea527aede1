extension HTTPResponse {
    /// Status line, headers and (unless HEAD or a bodiless status) the body, ready to send.
    ///
    /// The server owns the framing headers, so the handler's Content-Length, Transfer-Encoding,
    /// Connection and X-Request-Id are replaced; fields that could split the response are dropped.
    func wireBytes(requestID: String, omitBody: Bool, connection: String?) -> [UInt8] {
        let bodyAllowed = Self.allowsBody(Self.wireStatus(status))
        var bytes = head(
            requestID: requestID, contentLength: bodyAllowed ? body.count : nil, connection: connection,
            reserving: omitBody ? 0 : body.count)
        if bodyAllowed, !omitBody {
            bytes.append(contentsOf: body)
        }
        return bytes
    }

    /// The head of a streamed response: no Content-Length, so the body runs until the server closes the connection.
    func streamHeadBytes(requestID: String) -> [UInt8] {
        head(requestID: requestID, contentLength: nil, connection: "close", reserving: 0)
    }

    /// Whether the handler asked for the connection to be closed after this response.
    var requestsClose: Bool {
        headers.contains(token: "close", in: "Connection")
    }

    static func allowsBody(_ status: Int) -> Bool {
        !(100..<200).contains(status) && status != 204 && status != 304
    }

    /// A status a handler got wrong goes out as 500 rather than as a malformed status line.
    static func wireStatus(_ status: Int) -> Int {
        (100...999).contains(status) ? status : 500
    }

    /// Built as bytes in one buffer with room for the body: this runs for every response.
    private func head(requestID: String, contentLength: Int?, connection: String?, reserving extra: Int) -> [UInt8] {
        let status = Self.wireStatus(status)
        var head: [UInt8] = []
        head.reserveCapacity(256 + extra)
        head.append(contentsOf: "HTTP/1.1 \(status) ".utf8)
        head.append(contentsOf: HTTPStatus.reasonPhrase(status).utf8)
        head.append(contentsOf: Self.lineEnd)
        var hasDate = false
        for (name, value) in headers {
            guard Self.isSafe(name: name, value: value), !Self.serverOwned.contains(where: { HTTPHeaders.sameName($0, name) })
            else { continue }
            hasDate = hasDate || HTTPHeaders.sameName(name, "Date")
            Self.appendField(name, value, to: &head)
        }
        if !hasDate {
            Self.appendField("Date", HTTPDate.now(), to: &head)
        }
        Self.appendField("X-Request-Id", requestID, to: &head)
        if let contentLength {
            Self.appendField("Content-Length", String(contentLength), to: &head)
        }
        if let connection {
            Self.appendField("Connection", connection, to: &head)
        }
        head.append(contentsOf: Self.lineEnd)
        return head
    }

    /// Framing fields the server writes itself, whatever the handler put there.
    private static let serverOwned = ["Content-Length", "Transfer-Encoding", "Connection", "X-Request-Id"]
    private static let lineEnd: [UInt8] = [Byte.cr, Byte.lf]

    private static func appendField(_ name: String, _ value: String, to head: inout [UInt8]) {
        head.append(contentsOf: name.utf8)
        head.append(UInt8(ascii: ":"))
        head.append(Byte.space)
        head.append(contentsOf: value.utf8)
        head.append(contentsOf: lineEnd)
    }

    private static func isSafe(name: String, value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(Byte.isTokenCharacter)
            && value.utf8.allSatisfy { $0 == Byte.tab || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
