import ClusterOps
import Store

/// The worker's side of OperationObserver: events and progress go to the store as they happen; stopping is
/// asked of the store (a cancel request) and of the worker (shutdown).
final class JobReporter: OperationObserver {
    enum StopReason { case cancelled, shutdown }

    let store: Store
    let jobId: Int64
    let isShuttingDown: () -> Bool
    let slotsTotal: Int
    private(set) var slotsDone: Int
    private(set) var keysMoved: Int
    private(set) var currentStep: String?
    private(set) var stopReason: StopReason?

    init(store: Store, job: JobRecord, slotsTotal: Int, isShuttingDown: @escaping () -> Bool) {
        self.store = store
        self.jobId = job.id
        self.slotsTotal = slotsTotal
        self.slotsDone = job.slotsDone
        self.keysMoved = job.keysMoved
        self.currentStep = job.step
        self.isShuttingDown = isShuttingDown
    }

    func event(_ message: String, node: String?) {
        try? store.appendEvent(jobId: jobId, message: message, node: node)
    }

    func warning(_ message: String) {
        try? store.appendEvent(jobId: jobId, level: "warning", message: message)
    }

    func step(_ name: String) {
        currentStep = name
        save()
    }

    func slotsMoved(_ count: Int, keys: Int) {
        slotsDone = min(slotsTotal, slotsDone + count)
        keysMoved += keys
        save()
    }

    func shouldStop() -> Bool {
        if isShuttingDown() {
            stopReason = .shutdown
            return true
        }
        if (try? store.isCancelRequested(jobId: jobId)) == true {
            stopReason = .cancelled
            return true
        }
        return false
    }

    func save() {
        try? store.updateProgress(jobId: jobId, step: currentStep, slotsTotal: slotsTotal, slotsDone: slotsDone,
                                  keysMoved: keysMoved)
    }
}
