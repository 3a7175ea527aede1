import Store

/// The answer to a job request: queued, the job of an earlier identical request, or (dry run) the plan it would carry out.
public enum Submission: Sendable {
    case queued(JobRecord)
    /// The job an earlier request with the same Idempotency-Key made.
    case existing(JobRecord)
    case dryRun(DryRun)
}
