extension RedisError {
    /// Classifies an error reply's text. This is the only place error replies are interpreted.
    public static func fromErrorReply(_ text: String) -> RedisError {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let code = words.first.map(String.init) ?? "ERR"
        switch code {
        case "MOVED", "ASK":
            guard words.count == 3, let slot = Int(words[1]), (0..<16384).contains(slot) else { break }
            let endpoint = bracketedIPv6(String(words[2]))
            return code == "MOVED" ? .moved(slot: slot, endpoint: endpoint) : .ask(slot: slot, endpoint: endpoint)
        case "CLUSTERDOWN": return .clusterDown(text)
        case "TRYAGAIN": return .tryAgain(text)
        case "BUSYKEY": return .busyKey(text)
        case "NOAUTH": return .noAuth(text)
        case "WRONGPASS": return .wrongPass(text)
        // Servers before ACLs (Redis < 6) report a bad requirepass password this way.
        case "ERR" where text == "ERR invalid password": return .wrongPass(text)
        default: break
        }
        return .server(code: code, message: text)
    }

    /// Redis writes IPv6 redirect targets unbracketed ("::1:7000"); bracket them at the last colon.
    private static func bracketedIPv6(_ endpoint: String) -> String {
        guard !endpoint.hasPrefix("["), endpoint.filter({ $0 == ":" }).count > 1,
              let colon = endpoint.lastIndex(of: ":")
        else { return endpoint }
        return "[\(endpoint[..<colon])]\(endpoint[colon...])"
    }
}
