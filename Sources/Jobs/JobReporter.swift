import ClusterOps
import Foundation
import Store

/// The worker's side of OperationObserver: events and progress go to the store as they happen. Stopping is asked
/// by a cancel request (seen through the store's change feed, not by polling), by shutdown, and by the store
/// itself: when a write fails the job pauses at the next safe point, stays `running`, and resumes once the store
/// can be written again, so no progress is recorded out of order and none is silently dropped.
final class JobReporter: OperationObserver, JobCheckpointing {
    enum StopReason: Equatable {
        case cancelled
        case shutdown
        case storeUnavailable(String)
    }

    let store: Store
    let jobId: Int64
    let slotsTotal: Int
    private let isShuttingDown: () -> Bool
    private let cancelRequested: CancelFlag
    private let subscription: JobChangeHub.Subscription
    private(set) var slotsDone: Int
    private(set) var keysMoved: Int
    /// The keys the moves carry, counted before they started (at least the keys moved so far).
    private(set) var keysTotal: Int?
    /// A backup's bytes written, and of how many when known.
    private(set) var bytes: (done: Int64, total: Int64?)?
    /// When progress was last written: keys landing mid-batch are written at most every `landedInterval`.
    private var savedAt = Date.distantPast
    static let landedInterval = 0.25
    private(set) var currentStep: String?
    private(set) var stopReason: StopReason?
    /// The job's checkpoint: the stored one when it started, then the last saved.
    private(set) var storedCheckpoint: String?
    /// The first store write that failed; every later write is skipped until the job is resumed.
    private(set) var storeFailure: String?

    init(store: Store, job: JobRecord, slotsTotal: Int, checkpoint: String? = nil, isShuttingDown: @escaping () -> Bool) {
        self.store = store
        self.storedCheckpoint = checkpoint
        self.jobId = job.id
        self.slotsTotal = slotsTotal
        self.slotsDone = job.slotsDone
        self.keysMoved = job.keysMoved
        self.keysTotal = job.keysTotal
        self.currentStep = job.step
        self.isShuttingDown = isShuttingDown
        let flag = CancelFlag(job.cancelRequested)
        cancelRequested = flag
        subscription = store.changes.subscribe(jobId: job.id) { change in
            if case .job(let record) = change, record.cancelRequested { flag.set() }
        }
    }

    deinit { store.changes.unsubscribe(subscription) }

    func event(_ message: String, node: String?) {
        record { try store.appendEvent(jobId: jobId, message: message, node: node) }
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

    func keysLanded(_ keys: Int) {
        keysMoved += keys
        if Date().timeIntervalSince(savedAt) >= Self.landedInterval { save() }
    }

    func bytesWritten(_ done: Int64, total: Int64?) {
        bytes = (done, total)
        if Date().timeIntervalSince(savedAt) >= Self.landedInterval { save() }
    }

    func keysToMove(_ remaining: Int) {
        keysTotal = keysMoved + remaining
        save()
    }

    func slotsFoundMoved(_ slots: Int) {
        guard slots > slotsDone else { return }
        slotsDone = min(slotsTotal, slots)
        save()
    }

    func shouldStop() -> Bool {
        if let storeFailure {
            stopReason = .storeUnavailable(storeFailure)
        } else if isShuttingDown() {
            stopReason = .shutdown
        } else if cancelRequested.isSet {
            stopReason = .cancelled
        }
        return stopReason != nil
    }

    /// What the job answers besides its effect, as JSON text.
    func result(_ text: String) {
        record { try store.setResult(jobId: jobId, result: text) }
    }

    func saveCheckpoint(_ checkpoint: String, keys: Int) {
        keysMoved += keys
        storedCheckpoint = checkpoint
        record { try store.saveCheckpoint(jobId: jobId, checkpoint: checkpoint, keysMoved: keysMoved) }
    }

    func save() {
        savedAt = Date()
        // Writes by clients during the move can add keys to the counted slots: the total never shows less than moved.
        if let total = keysTotal, total < keysMoved { keysTotal = keysMoved }
        record { try store.updateProgress(jobId: jobId, step: currentStep, slotsDone: slotsDone, keysMoved: keysMoved, keysTotal: keysTotal,
                                                 bytes: bytes) }
    }

    private func record(_ write: () throws -> Void) {
        guard storeFailure == nil else { return }
        do {
            try write()
        } catch {
            storeFailure = "\(error)"
        }
    }
}

/// Set from the store's change feed (any thread), read by the job's thread.
private final class CancelFlag: @unchecked Sendable {
    // Guarded by `lock`.
    private var value: Bool
    private let lock = NSLock()

    init(_ value: Bool) { self.value = value }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
