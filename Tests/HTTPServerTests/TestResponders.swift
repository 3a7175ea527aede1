import Foundation
import HTTPServer
import Synchronization

/// Collects the responders of deferred requests, so a test can answer them when it chooses.
final class TestResponders: Sendable {
    private let parked = Mutex<[HTTPResponder]>([])
    private let arrivals = DispatchSemaphore(value: 0)

    /// A handler that defers `/wait` (keeping its responder here) and answers everything else at once.
    var handler: HTTPHandler {
        { request in
            guard request.path == "/wait" else { return .text(200, "hello \(request.path)") }
            return .deferred { responder in
                self.parked.withLock { $0.append(responder) }
                self.arrivals.signal()
            }
        }
    }

    /// Waits until `count` more requests are parked; false if they don't arrive within `timeout` seconds.
    func waitForArrivals(_ count: Int, timeout: Double = 30) -> Bool {
        let deadline = DispatchTime.now() + timeout
        for _ in 0..<count where arrivals.wait(timeout: deadline) == .timedOut {
            return false
        }
        return true
    }

    /// Takes every parked responder.
    func takeAll() -> [HTTPResponder] {
        parked.withLock { responders in
            defer { responders.removeAll() }
            return responders
        }
    }
}

/// Records interruptions reported to a responder.
final class InterruptionLog: Sendable {
    private let seen = Mutex<[HTTPInterruption]>([])
    private let reported = DispatchSemaphore(value: 0)

    func record(_ interruption: HTTPInterruption) {
        seen.withLock { $0.append(interruption) }
        reported.signal()
    }

    /// The interruptions so far, once at least one was reported within `timeout` seconds.
    func wait(timeout: Double = 10) -> [HTTPInterruption] {
        _ = reported.wait(timeout: .now() + timeout)
        return seen.withLock { $0 }
    }
}
