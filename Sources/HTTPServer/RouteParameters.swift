/// Values bound to a route's `{name}` segments, percent-decoded.
public struct RouteParameters: Sendable {
    private var values: [(name: String, value: String)]

    public init(_ values: [(String, String)] = []) {
        self.values = values.map { (name: $0.0, value: $0.1) }
    }

    public subscript(_ name: String) -> String? {
        values.first { $0.name == name }?.value
    }

    /// The value of `name`; a missing one means the route pattern and its handler disagree, a server bug.
    public func require(_ name: String) throws(HTTPError) -> String {
        guard let value = self[name] else {
            throw HTTPError(500, "route parameter \(name) is missing")
        }
        return value
    }
}
