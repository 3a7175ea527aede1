import Foundation
import Store

/// What jobs did, for /metrics, learned from the store's change feed (no polling): how long jobs took by type and
/// outcome, keys and slots moved per cluster, and each cluster's current migration rate. Counters start at zero
/// with the process, as Prometheus counters do; a job resumed after a restart counts only what it moves from then on.
final class JobMetrics: @unchecked Sendable {
    static let durationBuckets: [Double] = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200]
    /// The migration rate is the keys moved over this many seconds, divided by it.
    static let rateWindow: Double = 5

    let durations = Histogram(name: "rcm_job_duration_seconds",
                              help: "Time from a job's start (or its queueing, if it never started) to its end, by type and outcome.",
                              buckets: durationBuckets)
    private let started = Date()
    private let lock = NSLock()
    // Guarded by `lock`.
    private var seen: [Int64: (slots: Int, keys: Int)] = [:]
    private var keysMoved: [String: Int] = [:]
    private var slotsMoved: [String: Int] = [:]
    private var recent: [String: [(at: Date, keys: Int)]] = [:]
    private var subscription: JobChangeHub.Subscription?
    private weak var hub: JobChangeHub?

    func start(_ hub: JobChangeHub) {
        self.hub = hub
        subscription = hub.subscribe(jobId: nil) { [weak self] change in
            if case .job(let job) = change { self?.observe(job) }
        }
    }

    deinit {
        if let subscription { hub?.unsubscribe(subscription) }
    }

    func observe(_ job: JobRecord, now: Date = Date()) {
        lock.lock()
        defer { lock.unlock() }
        if let last = seen[job.id] {
            let keys = max(0, job.keysMoved - last.keys)
            let slots = max(0, job.slotsDone - last.slots)
            if keys > 0 || slots > 0 {
                keysMoved[job.clusterId, default: 0] += keys
                slotsMoved[job.clusterId, default: 0] += slots
                if keys > 0 { recent[job.clusterId, default: []].append((now, keys)) }
            }
        } else if let startedAt = job.startedAt.flatMap(Timestamp.parse), startedAt < started {
            // Resumed from before this process: what it moved then was counted (or not) by that process.
            seen[job.id] = (job.slotsDone, job.keysMoved)
        } else {
            keysMoved[job.clusterId, default: 0] += job.keysMoved
            slotsMoved[job.clusterId, default: 0] += job.slotsDone
            if job.keysMoved > 0 { recent[job.clusterId, default: []].append((now, job.keysMoved)) }
        }
        seen[job.id] = (job.slotsDone, job.keysMoved)
        if job.status.isFinished {
            seen[job.id] = nil
            if let end = job.finishedAt.flatMap(Timestamp.parse),
               let begin = (job.startedAt ?? Optional(job.createdAt)).flatMap(Timestamp.parse) {
                durations.observe(max(0, end.timeIntervalSince(begin)),
                                  labels: "type=\"\(labelValue(job.type))\",outcome=\"\(job.status.rawValue)\"")
            }
        }
        let horizon = now.addingTimeInterval(-Self.rateWindow * 2)
        for cluster in Array(recent.keys) {
            recent[cluster]?.removeAll { $0.at < horizon }
        }
    }

    /// `clusters` lists every registered cluster, so each has its series even before anything moved.
    func lines(clusters: [String], now: Date = Date()) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        var out = ["# HELP rcm_keys_moved_total Keys moved by jobs, per cluster.", "# TYPE rcm_keys_moved_total counter"]
        let names = Set(clusters).union(keysMoved.keys).union(slotsMoved.keys).sorted()
        for cluster in names { out.append("rcm_keys_moved_total{cluster=\"\(labelValue(cluster))\"} \(keysMoved[cluster] ?? 0)") }
        out += ["# HELP rcm_slots_moved_total Slots moved by jobs, per cluster.", "# TYPE rcm_slots_moved_total counter"]
        for cluster in names { out.append("rcm_slots_moved_total{cluster=\"\(labelValue(cluster))\"} \(slotsMoved[cluster] ?? 0)") }
        out += ["# HELP rcm_migration_keys_per_second Keys moved per second over the last \(Int(Self.rateWindow)) s, per cluster.",
                "# TYPE rcm_migration_keys_per_second gauge"]
        let since = now.addingTimeInterval(-Self.rateWindow)
        for cluster in Set(clusters).sorted() {
            let keys = (recent[cluster] ?? []).filter { $0.at >= since }.reduce(0) { $0 + $1.keys }
            out.append("rcm_migration_keys_per_second{cluster=\"\(labelValue(cluster))\"} \(Histogram.format(Double(keys) / Self.rateWindow))")
        }
        return out + durations.lines()
    }
}
