/// Splits a request-target into its raw path and query and percent-decodes them (RFC 3986 §2.1).
enum RequestTarget {
    /// The still-encoded path and query; absolute-form targets lose their scheme and authority.
    static func components(of target: String) -> (path: Substring, query: Substring?) {
        var rest = Substring(target)
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
        }
        if !rest.hasPrefix("/"), let authorityStart = absoluteFormAuthorityStart(rest) {
            let afterScheme = rest[authorityStart...]
            let pathStart = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            rest = afterScheme[pathStart...]
            if !rest.hasPrefix("/") {
                rest = "/" + rest
            }
        }
        guard let question = rest.firstIndex(of: "?") else {
            return (rest, nil)
        }
        return (rest[..<question], rest[rest.index(after: question)...])
    }

    /// Decodes `%XX` escapes (and `+` as space in queries); nil when an escape is malformed.
    static func decode(_ text: Substring, plusAsSpace: Bool) -> String? {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < input.count,
                    let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `a=1&b=x+y&flag` as form-style pairs; nil when an escape is malformed.
    static func queryItems(_ query: Substring) -> [(name: String, value: String)]? {
        var items: [(name: String, value: String)] = []
        for pair in query.split(separator: "&") {
            let name: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                name = pair
                value = ""
            }
            guard let decodedName = decode(name, plusAsSpace: true),
                let decodedValue = decode(value, plusAsSpace: true)
            else { return nil }
            items.append((name: decodedName, value: decodedValue))
        }
        return items
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Where the authority begins in `http://authority/path` (RFC 9112 §3.2.2), or nil if not absolute-form.
    private static func absoluteFormAuthorityStart(_ target: Substring) -> Substring.Index? {
        let prefix = target.prefix(8).lowercased()
        for scheme in ["http://", "https://"] where prefix.hasPrefix(scheme) {
            return target.index(target.startIndex, offsetBy: scheme.count)
        }
        return nil
    }
}
