import Store

/// The answer to a job request: queued, or (dry run) the plan it would carry out.
public enum Submission: Sendable {
    case queued(JobRecord)
    case dryRun(DryRun)
}
