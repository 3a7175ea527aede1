import Dispatch
import Foundation
import HTTPServer
import Service
import Store

/// One parked `GET /jobs/{id}?wait=`: answered by the job's own change to a final status, by the timeout, or by
/// shutdown, whichever comes first, and only once. Holds no thread while it waits.
final class JobWait: @unchecked Sendable {
    let jobs: JobService
    let jobId: Int64
    let responder: HTTPResponder
    let metrics: Metrics
    let showResult: Bool

    // Guarded by `lock`.
    private let lock = NSLock()
    private var answered = false
    private var subscription: JobChangeHub.Subscription?

    init(jobs: JobService, jobId: Int64, responder: HTTPResponder, metrics: Metrics, showResult: Bool = true) {
        self.showResult = showResult
        self.jobs = jobs
        self.jobId = jobId
        self.responder = responder
        self.metrics = metrics
    }

    func start(timeout: Double) {
        let subscription = jobs.watch(jobId: jobId) { [self] change in
            if case .job(let job) = change, job.status.isFinished { answer(job) }
        }
        lock.lock()
        self.subscription = subscription
        let done = answered
        lock.unlock()
        if done { jobs.unwatch(subscription) }
        // The job may have ended between the handler's read and the subscription: look once more.
        answerIfFinished()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in answerWithCurrent() }
        responder.onInterrupt { [self] reason in
            switch reason {
            case .peerClosed: finish()
            case .shuttingDown: answerWithCurrent()
            }
        }
    }

    private func answerIfFinished() {
        if let job = try? jobs.job(jobId), job.status.isFinished { answer(job) }
    }

    private func answerWithCurrent() {
        do {
            answer(try jobs.job(jobId))
        } catch let error as ServiceError {
            send(Problem.response(error))
        } catch {
            send(.problem(HTTPError(500, "internal error (request \(responder.requestID))")))
        }
    }

    private func answer(_ job: JobRecord) {
        let response = (try? JSONCoding.response(200, JobView(job, showResult: showResult))) ?? .problem(HTTPError(500, "job \(job.id) could not be encoded"))
        send(response)
    }

    private func send(_ response: HTTPResponse) {
        guard finish() else { return }
        responder.respond(response)
        metrics.record(method: "GET", status: response.status)
    }

    /// True for the one caller that ends the wait.
    @discardableResult
    private func finish() -> Bool {
        lock.lock()
        let first = !answered
        answered = true
        let subscription = self.subscription
        self.subscription = nil
        lock.unlock()
        if let subscription { jobs.unwatch(subscription) }
        return first
    }
}
