import ClusterModel

/// A registered cluster. Deliberately not Encodable: the password must never be serialised by accident;
/// the API builds its own view without it. Its description hides the password too.
public struct ClusterRecord: Sendable, Equatable {
    public var id: String
    public var seeds: [String]
    public var username: String?
    public var password: String?
    /// nil: the nodes are reached over plain TCP.
    public var tls: ClusterTLS?
    /// nil: every node is dialled at the address it announces.
    public var addressMap: AddressMap?
    /// Who registered it: the token's name, or "anonymous" without a tokens file.
    public var createdBy: String
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, seeds: [String], username: String?, password: String?, tls: ClusterTLS? = nil,
                addressMap: AddressMap? = nil, createdBy: String = "anonymous",
                createdAt: String, updatedAt: String) {
        self.id = id
        self.tls = tls
        self.addressMap = addressMap
        self.seeds = seeds
        self.username = username
        self.password = password
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension ClusterRecord: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "ClusterRecord(id: \(id), seeds: \(seeds), username: \(username ?? "none"), password: \(password == nil ? "none" : "***"))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "seeds": seeds, "username": username as Any, "password": password == nil ? "none" : "***"])
    }
}
