import Foundation

/// Reads the (method, path) pairs out of openapi.yaml's `paths:` block, as written in this repository's layout:
/// paths at two spaces of indentation, operations at four.
enum OpenAPIPaths {
    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]

    static func operations(in spec: String) -> Set<String> {
        var result = Set<String>()
        var inPaths = false
        var currentPath: String?
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") {
                inPaths = line.hasPrefix("paths:")
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let currentPath {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasSuffix(":"), methods.contains(String(key)) {
                    result.insert("\(key.uppercased()) \(currentPath)")
                }
            }
        }
        return result
    }
}
