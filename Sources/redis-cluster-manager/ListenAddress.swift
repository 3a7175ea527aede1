/// `--listen` parsed: "127.0.0.1:8080", "[::1]:8080", "localhost:8080".
struct ListenAddress {
    var host: String
    var port: UInt16

    init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { return nil }
        }
        guard !hostPart.isEmpty, let port = UInt16(portPart) else { return nil }
        host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        self.port = port
    }
}
