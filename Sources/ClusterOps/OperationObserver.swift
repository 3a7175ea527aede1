/// What an operation tells the job that drives it, and asks of it. Called on the job's own thread.
public protocol OperationObserver: AnyObject {
    /// One line of the audit log: what was done, to which node.
    func event(_ message: String, node: String?)
    /// A step began (e.g. "moving slots", "waiting for convergence").
    func step(_ name: String)
    /// Slots finished moving, with the keys moved for them not yet reported by `keysLanded`. Called at safe points
    /// only: no slot is open.
    func slotsMoved(_ count: Int, keys: Int)
    /// Keys that reached their target, as each batch lands (slots may still be open).
    func keysLanded(_ keys: Int)
    /// The keys the job's moves still have to carry, counted before they start (COUNTKEYSINSLOT on each source);
    /// with those already moved (a resumed job), the job's total.
    func keysToMove(_ remaining: Int)
    /// Bytes a backup has written so far, and of how many when known.
    func bytesWritten(_ done: Int64, total: Int64?)
    /// True when the job should stop at the next safe point.
    func shouldStop() -> Bool
    /// The cluster already shows `slots` of the job's slots in their new place (a job resumed after the service
    /// died): progress counts at least these, whatever was reported before the interruption.
    func slotsFoundMoved(_ slots: Int)
}

extension OperationObserver {
    public func slotsFoundMoved(_ slots: Int) {}
    public func keysLanded(_ keys: Int) {}
    public func keysToMove(_ remaining: Int) {}
    public func bytesWritten(_ done: Int64, total: Int64?) {}
}
