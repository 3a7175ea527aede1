import ClusterOps

/// An operation observer for tests that drive ClusterOps directly: keeps every event and step, never stops.
final class RecordingObserver: OperationObserver {
    private(set) var events: [String] = []
    private(set) var steps: [String] = []

    func event(_ message: String, node: String?) { events.append(message) }
    func step(_ name: String) { steps.append(name) }
    func slotsMoved(_ count: Int, keys: Int) {}
    func shouldStop() -> Bool { false }
}
