/// What an operation tells the job that drives it, and asks of it. Called on the job's own thread.
public protocol OperationObserver: AnyObject {
    /// One line of the audit log: what was done, to which node.
    func event(_ message: String, node: String?)
    /// A step began (e.g. "moving slots", "waiting for convergence").
    func step(_ name: String)
    /// Slots finished moving, with the keys moved for them. Called at safe points only: no slot is open.
    func slotsMoved(_ count: Int, keys: Int)
    /// True when the job should stop at the next safe point.
    func shouldStop() -> Bool
    /// The cluster already shows `slots` of the job's slots in their new place (a job resumed after the service
    /// died): progress counts at least these, whatever was reported before the interruption.
    func slotsFoundMoved(_ slots: Int)
}

extension OperationObserver {
    public func slotsFoundMoved(_ slots: Int) {}
}
