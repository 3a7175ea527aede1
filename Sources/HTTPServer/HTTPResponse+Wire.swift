extension HTTPResponse {
    /// Status line, headers and (unless HEAD or a bodiless status) the body, ready to send.
    ///
    /// The server owns the framing headers, so the handler's Content-Length, Transfer-Encoding,
    /// Connection and X-Request-Id are replaced; fields that could split the response are dropped.
    func wireBytes(requestID: String, omitBody: Bool, connection: String?) -> [UInt8] {
        let status = (100...999).contains(status) ? status : 500
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
        let bodyAllowed = !(100..<200).contains(status) && status != 204 && status != 304
        if bodyAllowed {
            head += "Content-Length: \(body.count)\r\n"
        }
        if let connection {
            head += "Connection: \(connection)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if bodyAllowed, !omitBody {
            bytes.append(contentsOf: body)
        }
        return bytes
    }

    /// Whether the handler asked for the connection to be closed after this response.
    var requestsClose: Bool {
        headers.contains(token: "close", in: "Connection")
    }

    private static func isSafe(name: String, value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(Byte.isTokenCharacter)
            && value.utf8.allSatisfy { $0 == Byte.tab || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
