/// Finds a key that appears twice in one JSON object. Parsers disagree on which one wins (Foundation keeps the
/// first, Python and JavaScript the last), so a body like `{"dry_run": false, "dry_run": true}` would mean one thing
/// to the client that built it and another to the service: it is refused instead. Reads text that already parsed as
/// JSON, in one pass, without recursion; keys are compared after their escapes are resolved (`"a"` and `"\u0061"`
/// are the same key).
enum JSONDuplicateKeys {
    /// The first repeated key, or nil.
    static func first(in bytes: [UInt8]) -> String? {
        // One entry per open container: the keys seen so far for an object, nil for an array.
        var open: [Set<String>?] = []
        var expectingKey = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                open.append([])
                expectingKey = true
                index += 1
            case UInt8(ascii: "["):
                open.append(nil)
                expectingKey = false
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = open.popLast()
                expectingKey = false
                index += 1
            case UInt8(ascii: ","):
                // After a comma inside an object comes the next key.
                expectingKey = open.last.map { $0 != nil } ?? false
                index += 1
            case UInt8(ascii: "\""):
                let (text, end) = string(bytes, from: index)
                if expectingKey, var keys = open.last ?? nil {
                    if keys.contains(text) { return text }
                    keys.insert(text)
                    open[open.count - 1] = keys
                }
                expectingKey = false
                index = end
            default:
                index += 1
            }
        }
        return nil
    }

    /// The string starting at the quote at `start`, unescaped, and the index just past its closing quote.
    private static func string(_ bytes: [UInt8], from start: Int) -> (String, Int) {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var index = start + 1
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                raw.append(bytes[index])
                index += 1
                continue
            }
            flush()
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "u"):
                var value = hex(bytes, index)
                index += 4
                // A surrogate pair spells one scalar.
                if (0xD800..<0xDC00).contains(value ?? 0), index + 5 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                   bytes[index + 1] == UInt8(ascii: "u"), let low = hex(bytes, index + 2), (0xDC00..<0xE000).contains(low), let high = value {
                    value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                scalars.append(value.flatMap(Unicode.Scalar.init) ?? "\u{FFFD}")
            default: scalars.append(Unicode.Scalar(escape))
            }
        }
        flush()
        return (String(scalars), index + 1)
    }

    private static func hex(_ bytes: [UInt8], _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        return UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
    }
}
