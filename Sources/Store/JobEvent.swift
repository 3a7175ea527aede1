/// One line of a job's event log: what was done, to which node.
public struct JobEvent: Sendable, Equatable {
    public var id: Int64
    public var jobId: Int64
    public var at: String
    public var level: String
    public var message: String
    public var node: String?
    public var data: String?

    public init(id: Int64, jobId: Int64, at: String, level: String, message: String, node: String?, data: String?) {
        self.id = id
        self.jobId = jobId
        self.at = at
        self.level = level
        self.message = message
        self.node = node
        self.data = data
    }
}
