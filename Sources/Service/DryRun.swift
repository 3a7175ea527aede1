/// What a job would do, without doing it: its params and plan as JSON text, in the service's JSON dialect.
public struct DryRun: Sendable {
    public var type: String
    public var params: String
    public var plan: String
}
