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

extension OpenAPIPaths {
    /// The component schema a path's POST takes as its JSON body (`$ref: "#/components/schemas/X"` → "X").
    static func postBodySchema(path: String, in spec: String) -> String? {
        let lines = spec.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "  \(path):") else { return nil }
        var inPost = false
        for line in lines[(start + 1)...] {
            if line.hasPrefix("  /") || !line.hasPrefix(" ") { return nil }
            if line.hasPrefix("    "), !line.hasPrefix("     ") { inPost = line == "    post:" }
            if inPost, line.contains("$ref: \"#/components/schemas/") {
                return line.components(separatedBy: "#/components/schemas/").last?.replacingOccurrences(of: "\"", with: "")
            }
            if inPost, line.hasPrefix("      responses:") { return nil }
        }
        return nil
    }

    /// The property names of a component schema (at `components.schemas.<name>.properties`).
    static func properties(ofSchema name: String, in spec: String) -> Set<String> {
        let lines = spec.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "    \(name):") else { return [] }
        var result = Set<String>()
        var inProperties = false
        for line in lines[(start + 1)...] {
            if !line.hasPrefix("      ") { break }
            if line.hasPrefix("      "), !line.hasPrefix("       ") { inProperties = line == "      properties:"; continue }
            if inProperties, line.hasPrefix("        "), !line.hasPrefix("         "), line.hasSuffix(":") {
                result.insert(String(line.trimmingCharacters(in: .whitespaces).dropLast()))
            }
        }
        return result
    }

    /// The values of a string enum schema written `enum: [a, b, c]`.
    static func enumValues(ofSchema name: String, in spec: String) -> [String] {
        let lines = spec.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "    \(name):") else { return [] }
        for line in lines[(start + 1)...] {
            if !line.hasPrefix("      ") { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("enum: [") {
                return trimmed.dropFirst("enum: [".count).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        return []
    }
}
