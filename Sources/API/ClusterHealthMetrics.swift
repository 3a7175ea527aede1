import Foundation
import Service

/// Per-cluster topology gauges for /metrics: masters, replicas, open slots, uncovered slots, failing and unreachable
/// nodes. They are read on a schedule (every `interval` seconds, one cluster after another, on one background
/// thread), never because someone scraped: a scrape answers the last reading and its age.
final class ClusterHealthMetrics: @unchecked Sendable {
    struct Reading {
        var at: Date
        var ok: Bool
        var masters = 0
        var replicas = 0
        var openSlots = 0
        var uncoveredSlots = 0
        var failingNodes = 0
        var unreachableNodes = 0
    }

    private let lock = NSLock()
    // Guarded by `lock`.
    private var readings: [String: Reading] = [:]
    private var running = false
    private let wake = DispatchSemaphore(value: 0)

    /// Reads every registered cluster now, then every `interval` seconds until `stop`.
    func start(clusters: ClusterService, interval: Double) {
        lock.withLock { running = true }
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                refresh(clusters)
                _ = wake.wait(timeout: .now() + interval)
            }
        }
    }

    func stop() {
        lock.withLock { running = false }
        wake.signal()
    }

    func refresh(_ clusters: ClusterService) {
        let ids = ((try? clusters.clusters()) ?? []).map(\.id)
        for id in ids {
            guard lock.withLock({ running }) else { return }
            var reading = Reading(at: Date(), ok: false)
            if let document = try? clusters.topology(id) {
                let checks = document.checks
                reading.ok = document.nodes.contains(where: \.reachable)
                reading.masters = document.summary.masters
                reading.replicas = document.summary.replicas
                reading.openSlots = Set(checks.openSlots.map(\.slot)).count
                reading.uncoveredSlots = checks.uncoveredSlots.count
                reading.failingNodes = checks.failingNodes.count
                reading.unreachableNodes = checks.unreachableNodes.count
            }
            lock.withLock { readings[id] = reading }
        }
        lock.withLock { readings = readings.filter { ids.contains($0.key) } }
    }

    func lines(now: Date = Date()) -> [String] {
        let readings = lock.withLock { self.readings }
        let gauges: [(String, String, (Reading) -> Double)] = [
            ("rcm_cluster_up", "1 when the last topology read reached the cluster.", { $0.ok ? 1 : 0 }),
            ("rcm_cluster_masters", "Masters in the last topology read.", { Double($0.masters) }),
            ("rcm_cluster_replicas", "Replicas in the last topology read.", { Double($0.replicas) }),
            ("rcm_cluster_open_slots", "Slots left importing or migrating.", { Double($0.openSlots) }),
            ("rcm_cluster_uncovered_slots", "Slots no master serves.", { Double($0.uncoveredSlots) }),
            ("rcm_cluster_failing_nodes", "Nodes flagged fail.", { Double($0.failingNodes) }),
            ("rcm_cluster_unreachable_nodes", "Nodes the service could not reach.", { Double($0.unreachableNodes) }),
            ("rcm_cluster_topology_age_seconds", "Seconds since the topology gauges were read.", { now.timeIntervalSince($0.at) }),
        ]
        var out: [String] = []
        for (name, help, value) in gauges {
            out += ["# HELP \(name) \(help)", "# TYPE \(name) gauge"]
            for id in readings.keys.sorted() {
                let number = value(readings[id]!)
                out.append("\(name){cluster=\"\(labelValue(id))\"} \(name.hasSuffix("seconds") ? String(format: "%.3f", number) : Histogram.format(number))")
            }
        }
        return out
    }
}
