/// Something the store recorded about a job, as it is after the write: waiters and streams are woken by these
/// instead of polling the database.
public enum JobChange: Sendable {
    /// The job row changed (queued, started, progress, cancel requested, finished); the record is the new row.
    case job(JobRecord)
    /// An event was appended to the job's log.
    case event(JobEvent)

    public var jobId: Int64 {
        switch self {
        case .job(let job): job.id
        case .event(let event): event.jobId
        }
    }
}
