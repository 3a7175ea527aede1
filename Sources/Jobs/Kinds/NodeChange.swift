/// A node a plan acts on, with what it resolved to when the plan was made.
public struct NodeChange: Sendable, Equatable, Codable {
    public var id: String?
    public var address: String
    public var role: String
    public var masterId: String?
    public var masterAddress: String?
}
