import Dispatch
import Foundation
import HTTPServer
import Jobs
import Service
import Store

/// One live `GET /jobs/{id}/events` as Server-Sent Events: the log after `Last-Event-ID`, then every event
/// (`id:` its id) and progress change (`event: progress`) as it is recorded, then the final job (`event: job`),
/// then close. Comment lines every `heartbeat` seconds keep proxies from cutting an idle stream.
///
/// Everything runs on the stream's serial queue, so the backlog and the live changes go out in order and once.
final class JobEventStream: @unchecked Sendable {
    let jobs: JobService
    let jobId: Int64
    let writer: HTTPStreamWriter
    /// False for a `read` principal: the job's `result` goes out as null.
    let showResult: Bool
    private let queue: DispatchQueue
    // Touched only on `queue`.
    private var lastEventId: Int64
    private var closed = false
    /// Run once when the stream closes (on `queue`).
    var onClose: (@Sendable () -> Void)?
    private var subscription: JobChangeHub.Subscription?
    private var timer: (any DispatchSourceTimer)?

    static func start(jobs: JobService, jobId: Int64, after lastEventId: Int64, responder: HTTPResponder,
                      heartbeat: Double, metrics: Metrics, showResult: Bool = true,
                      revoked: @escaping @Sendable () -> Bool = { false }, access: AccessControl? = nil) {
        let headers = HTTPHeaders([("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache"),
                                   ("X-Accel-Buffering", "no")])
        guard let writer = responder.openStream(status: 200, headers: headers) else { return }
        metrics.record(method: "GET", status: 200)
        let stream = JobEventStream(jobs: jobs, jobId: jobId, after: lastEventId, writer: writer, showResult: showResult)
        // A token revoked by a reload (SIGHUP) ends the streams opened with it, at once.
        if let access {
            let watcher = access.watch { stream.queue.async { if revoked() { stream.send(": token revoked\n\n"); stream.close() } } }
            stream.onClose = { access.unwatch(watcher) }
        }
        stream.queue.async { stream.begin(heartbeat: heartbeat) }
        responder.onInterrupt { _ in stream.queue.async { stream.endWithCurrentJob() } }
    }

    private init(jobs: JobService, jobId: Int64, after lastEventId: Int64, writer: HTTPStreamWriter, showResult: Bool) {
        self.showResult = showResult
        self.jobs = jobs
        self.jobId = jobId
        self.lastEventId = lastEventId
        self.writer = writer
        queue = DispatchQueue(label: "sse-job-\(jobId)")
    }

    private func begin(heartbeat: Double) {
        // Subscribed before the backlog is read: a change recorded meanwhile is queued behind this block, and
        // events already sent are skipped by id.
        subscription = jobs.watch(jobId: jobId) { [self] change in queue.async { self.deliver(change) } }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + heartbeat, repeating: heartbeat)
        timer.setEventHandler { [self] in send(": heartbeat\n\n") }
        timer.resume()
        self.timer = timer
        send("retry: 2000\n\n")
        do {
            sendEvents(try jobs.events(jobId: jobId, after: lastEventId))
            let job = try jobs.job(jobId)
            if job.status.isFinished { end(job) } else { send(progress: job) }
        } catch {
            close()
        }
    }

    private func deliver(_ change: JobChange) {
        guard !closed else { return }
        switch change {
        case .event(let event):
            sendEvents([event])
        case .job(let job):
            // The job's events are written by its one thread before it ends, and posted in that order.
            if job.status.isFinished {
                end(job)
            } else {
                send(progress: job)
            }
        }
    }

    private func sendEvents(_ events: [JobEvent]) {
        for event in events where event.id > lastEventId {
            lastEventId = event.id
            send("id: \(event.id)\nevent: event\ndata: \(Self.json(JobEventView(event)))\n\n")
        }
    }

    private func send(progress job: JobRecord) {
        send("event: progress\ndata: \(Self.json(JobView(job, showResult: showResult)))\n\n")
    }

    private func end(_ job: JobRecord) {
        send("event: job\ndata: \(Self.json(JobView(job, showResult: showResult)))\n\n")
        close()
    }

    /// Shutdown or a client gone: the job as it stands, then close (a no-op for a writer already over).
    private func endWithCurrentJob() {
        guard !closed else { return }
        if let job = try? jobs.job(jobId) { end(job) } else { close() }
    }

    fileprivate func send(_ text: String) {
        guard !closed else { return }
        if !writer.write(Array(text.utf8)) { close() }
    }

    fileprivate func close() {
        guard !closed else { return }
        closed = true
        onClose?()
        onClose = nil
        timer?.cancel()
        timer = nil
        if let subscription { jobs.unwatch(subscription) }
        subscription = nil
        writer.finish()
    }

    /// One line of JSON; the dialect never emits raw newlines (they are escaped inside strings).
    private static func json<T: Encodable>(_ value: T) -> String {
        (try? JSONText.string(value)) ?? "null"
    }
}
