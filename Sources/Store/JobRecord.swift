/// One job row. `params` and `plan` are JSON text owned by the job worker.
public struct JobRecord: Sendable, Equatable {
    public var id: Int64
    public var clusterId: String
    public var type: String
    public var status: JobStatus
    public var params: String
    public var plan: String?
    public var step: String?
    public var slotsTotal: Int
    public var slotsDone: Int
    public var keysMoved: Int
    public var cancelRequested: Bool
    public var errorCode: String?
    public var errorMessage: String?
    public var actor: String
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var snapshotBefore: Int64?
    public var snapshotAfter: Int64?
    /// JSON the job answers besides its effect (e.g. each node's reply to a `call`); nil for most kinds.
    public var result: String? = nil
    /// JSON of what the request asked of the job itself (force, if_match, big_key_bytes); nil for none.
    public var options: String? = nil
    /// JSON of the post-conditions checked when the job ended; nil until then.
    public var verification: String? = nil
    /// The keys the job's moves carry, counted before they started; nil when not counted.
    public var keysTotal: Int? = nil
    /// A backup's bytes written, and of how many when known.
    public var bytesDone: Int64? = nil
    public var bytesTotal: Int64? = nil
}
