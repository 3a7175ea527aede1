extension HTTPResponse {
    /// An RFC 9457 problem document; the error's headers (e.g. `Allow`, `Retry-After`) are carried over.
    public static func problem(_ error: HTTPError) -> HTTPResponse {
        let json = "{\"type\":\(jsonString(error.type)),\"title\":\(jsonString(error.title)),"
            + "\"status\":\(error.status),\"detail\":\(jsonString(error.detail))}"
        var headers = error.headers
        headers.set("Content-Type", "application/problem+json")
        return HTTPResponse(status: error.status, headers: headers, body: Array(json.utf8))
    }
}

/// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
