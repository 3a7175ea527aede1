/// What a request asks of the job itself, whatever its kind: run despite failing checks (`force`), only on the
/// cluster state it was reviewed against (`If-Match`), and the size from which a key counts as big.
public struct JobOptions: Codable, Sendable, Equatable {
    public var force: Bool
    /// The topology ETag the request was made against (its `If-Match` header), checked again when the job starts.
    public var ifMatch: String?
    public var bigKeyBytes: Int64?

    public static let fields: Set<String> = ["force", "big_key_bytes"]
    public static let defaultBigKeyBytes: Int64 = 64 * 1024 * 1024

    public init(force: Bool = false, ifMatch: String? = nil, bigKeyBytes: Int64? = nil) {
        self.force = force
        self.ifMatch = ifMatch
        self.bigKeyBytes = bigKeyBytes
    }

    public static func parse(_ request: RequestFields, ifMatch: String?) throws(RequestFieldError) -> JobOptions {
        let big = try request.int("big_key_bytes", in: 1024...(1 << 40))
        return JobOptions(force: try request.bool("force") ?? false, ifMatch: ifMatch, bigKeyBytes: big.map(Int64.init))
    }

    /// nil when there is nothing to store (the defaults).
    public var stored: String? {
        self == JobOptions() ? nil : try? JSONText.string(self)
    }

    public static func read(_ text: String?) -> JobOptions {
        guard let text, let options = try? JSONText.decode(JobOptions.self, from: text) else { return JobOptions() }
        return options
    }
}
