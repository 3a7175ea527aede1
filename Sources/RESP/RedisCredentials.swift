/// AUTH credentials. Every textual rendering hides the password so it cannot leak into logs.
/// Hashable so pooled connections can be keyed by what they authenticated with.
public struct RedisCredentials: Sendable, Hashable {
    /// nil authenticates as the `default` user (legacy `requirepass`).
    public var username: String?
    public var password: String?

    public init(username: String? = nil, password: String? = nil) {
        self.username = username
        self.password = password
    }
}

extension RedisCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "RedisCredentials(username: \(username ?? "default"), password: \(password == nil ? "none" : "***"))"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and reflection-based printing from showing the password.
    public var customMirror: Mirror {
        Mirror(self, children: ["username": username as Any, "password": password == nil ? "none" : "***"])
    }
}
