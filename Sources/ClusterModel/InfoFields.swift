/// The `key:value` lines of an `INFO` (or `CLUSTER INFO`) reply, values trimmed; section headers and blank lines
/// left out. The first of a repeated key wins.
public enum InfoFields {
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { continue }
            let key = String(line[..<colon])
            if fields[key] == nil {
                fields[key] = String(line[line.index(after: colon)...].drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            }
        }
        return fields
    }
}
