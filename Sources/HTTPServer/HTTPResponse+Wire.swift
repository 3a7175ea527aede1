extension HTTPResponse {
    /// Status line, headers and (unless HEAD or a bodiless status) the body, ready to send.
    ///
    /// The server owns the framing headers, so the handler's Content-Length, Transfer-Encoding,
    /// Connection and X-Request-Id are replaced; fields that could split the response are dropped.
    func wireBytes(requestID: String, omitBody: Bool, connection: String?) -> [UInt8] {
        let bodyAllowed = Self.allowsBody(Self.wireStatus(status))
        var bytes = Array(head(requestID: requestID, contentLength: bodyAllowed ? body.count : nil, connection: connection).utf8)
        if bodyAllowed, !omitBody {
            bytes.append(contentsOf: body)
        }
        return bytes
    }

    /// The head of a streamed response: no Content-Length, so the body runs until the server closes the connection.
    func streamHeadBytes(requestID: String) -> [UInt8] {
        Array(head(requestID: requestID, contentLength: nil, connection: "close").utf8)
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

    private func head(requestID: String, contentLength: Int?, connection: String?) -> String {
        let status = Self.wireStatus(status)
        var head = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n"
        var hasDate = false
        for (name, value) in headers {
            guard Self.isSafe(name: name, value: value) else { continue }
            if ["content-length", "transfer-encoding", "connection", "x-request-id"].contains(name.lowercased()) {
                continue
            }
            hasDate = hasDate || HTTPHeaders.sameName(name, "Date")
            head += "\(name): \(value)\r\n"
        }
        if !hasDate {
            head += "Date: \(HTTPDate.now())\r\n"
        }
        head += "X-Request-Id: \(requestID)\r\n"
        if let contentLength {
            head += "Content-Length: \(contentLength)\r\n"
        }
        if let connection {
            head += "Connection: \(connection)\r\n"
        }
        head += "\r\n"
        return head
    }

    private static func isSafe(name: String, value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(Byte.isTokenCharacter)
            && value.utf8.allSatisfy { $0 == Byte.tab || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
