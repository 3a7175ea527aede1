/// What a job would do, without doing it: its params and plan as JSON text, in the service's JSON dialect, and the
/// topology ETag it was planned on (send it back as `If-Match` to run exactly this plan).
public struct DryRun: Sendable {
    public var type: String
    public var params: String
    public var plan: String
    public var topologyEtag: String
}
