/// One check a job makes before it changes anything: what it looked at, what it found, and what to do about it.
/// A `fail` refuses the job (422 `preflight_failed`) unless the request says `"force": true`.
public struct PreflightCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, Comparable {
        case ok, warn, fail

        private var rank: Int { self == .ok ? 0 : self == .warn ? 1 : 2 }
        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    /// memory_headroom, big_keys, replication, permissions, health, time.
    public var name: String
    public var status: Status
    public var message: String
    /// The numbers behind the verdict (snake_case names).
    public var figures: [String: JSONValue]
    /// What to do about it; "nothing" for an `ok`.
    public var action: String

    public init(_ name: String, _ status: Status, _ message: String, figures: [String: JSONValue] = [:], action: String = "nothing") {
        self.name = name
        self.status = status
        self.message = message
        self.figures = figures
        self.action = action
    }
}

extension Array where Element == PreflightCheck {
    /// The messages of the checks that failed.
    public var failures: [String] { filter { $0.status == .fail }.map { "\($0.name): \($0.message)" } }
}
