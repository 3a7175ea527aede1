/// One registered route: a method and a pattern of literal and `{name}` segments.
struct Route: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let method: String
    let pattern: String
    let segments: [Segment]
    let handler: Router.Handler

    init(method: String, pattern: String, handler: @escaping Router.Handler) {
        precondition(pattern.hasPrefix("/"), "route pattern must start with /: \(pattern)")
        self.method = method
        self.pattern = pattern
        self.handler = handler
        segments = Self.split(Substring(pattern)).map { segment in
            if segment.count > 2, segment.hasPrefix("{"), segment.hasSuffix("}") {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .literal(String(segment))
        }
    }

    /// "/a/b/" → ["a", "b", ""]: a trailing slash is an empty segment, so it matches no pattern without one.
    static func split(_ path: Substring) -> [Substring] {
        path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
    }

    /// The bound parameters if `pathSegments` (already decoded) fit this pattern.
    func match(_ pathSegments: [String]) -> RouteParameters? {
        guard pathSegments.count == segments.count else { return nil }
        var values: [(String, String)] = []
        for (segment, value) in zip(segments, pathSegments) {
            switch segment {
            case .literal(let literal):
                guard literal == value else { return nil }
            case .parameter(let name):
                guard !value.isEmpty else { return nil }
                values.append((name, value))
            }
        }
        return RouteParameters(values)
    }

    /// Whether a literal segment of this route comes before one of `other` at the first place they differ,
    /// so `/clusters/import` wins over `/clusters/{id}`.
    func isMoreSpecific(than other: Route) -> Bool {
        for (mine, theirs) in zip(segments, other.segments) {
            switch (mine, theirs) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }
}
