import Foundation
/// Reads fields of `CLUSTER INFO` / `INFO` replies ("key:value" lines).
public enum ClusterInfo {
    public static func field(_ name: String, in text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}
