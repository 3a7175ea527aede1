/// A registered cluster. Deliberately not Encodable: the password must never be serialised by accident;
/// the API builds its own view without it.
public struct ClusterRecord: Sendable, Equatable {
    public var id: String
    public var seeds: [String]
    public var username: String?
    public var password: String?
    /// nil: the nodes are reached over plain TCP.
    public var tls: ClusterTLS?
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, seeds: [String], username: String?, password: String?, tls: ClusterTLS? = nil,
                createdAt: String, updatedAt: String) {
        self.id = id
        self.tls = tls
        self.seeds = seeds
        self.username = username
        self.password = password
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
