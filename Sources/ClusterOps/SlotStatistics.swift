import ClusterModel
import RESP

/// Per-slot figures read from the masters, for rebalancing by load: key counts (`CLUSTER SLOT-STATS` key-count
/// where offered, else `CLUSTER COUNTKEYSINSLOT`, which every version answers) or CPU and memory from
/// `CLUSTER SLOT-STATS` where the server offers them (Redis 8.2 offers cpu-usec, not memory-bytes).
public enum SlotStatistics {
    public enum Measure: String, Sendable, Codable {
        case keys, cpu, memory

        /// The SLOT-STATS field, for the measures only SLOT-STATS gives.
        var slotStatsField: String? {
            switch self {
            case .keys: nil
            case .cpu: "cpu-usec"
            case .memory: "memory-bytes"
            }
        }
    }

    /// master id → slot → figure, for the slots each master owns.
    public static func read(_ measure: Measure, masters: [TopologyNode], session: ClusterSession)
        throws(ClusterOpsError) -> [String: [Int: Double]] {
        var result: [String: [Int: Double]] = [:]
        for master in masters where !master.slots.isEmpty {
            guard master.reachable else { throw .impossible("\(master.address) is not reachable; its slots' \(measure.rawValue) cannot be read") }
            let slots = master.slots.slots
            if let field = measure.slotStatsField {
                result[master.id] = try slotStats(field, measure: measure, master: master, slots: master.slots, session: session)
            } else if let counted = try? slotStats("key-count", measure: measure, master: master, slots: master.slots, session: session) {
                // Servers with CLUSTER SLOT-STATS (Redis 8.2, Valkey 8+) count every slot's keys in one reply per range.
                result[master.id] = counted
            } else {
                var figures: [Int: Double] = [:]
                for start in stride(from: 0, to: slots.count, by: 4096) {
                    let chunk = Array(slots[start..<min(start + 4096, slots.count)])
                    let replies = try session.pipeline(master.address, chunk.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true)
                    for (slot, reply) in zip(chunk, replies) {
                        guard case .success(let value) = reply, let count = value.int else {
                            throw .impossible("\(master.address) did not count the keys of slot \(slot)")
                        }
                        if count > 0 { figures[slot] = Double(count) }
                    }
                }
                result[master.id] = figures
            }
        }
        return result
    }

    /// `CLUSTER SLOT-STATS SLOTSRANGE a b` per owned range: [[slot, [name, value, ...]], ...].
    private static func slotStats(_ field: String, measure: Measure, master: TopologyNode, slots: SlotSet,
                                  session: ClusterSession) throws(ClusterOpsError) -> [Int: Double] {
        var figures: [Int: Double] = [:]
        for range in slots.ranges {
            let reply: RESPValue
            do {
                reply = try session.call(master.address, ["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "\(range.lowerBound)", "\(range.upperBound)"],
                                         idempotent: true)
            } catch {
                let server = master.server.map { "\($0.product) \($0.version)" } ?? "its server"
                throw .impossible("balance_by \(measure.rawValue) needs per-slot statistics (CLUSTER SLOT-STATS), which \(master.address) (\(server)) does not offer: \(error)")
            }
            for entry in reply.array ?? [] {
                guard let pair = entry.array, pair.count == 2, let slot = pair[0].int, let fields = pair[1].array else { continue }
                var found = false
                var offered: [String] = []
                for index in stride(from: 0, to: fields.count - 1, by: 2) {
                    guard let name = fields[index].string else { continue }
                    offered.append(name)
                    guard name == field else { continue }
                    found = true
                    if let value = fields[index + 1].int, value > 0 { figures[Int(slot)] = Double(value) }
                }
                if !found {
                    let server = master.server.map { " (\($0.product) \($0.version))" } ?? ""
                    throw .impossible("balance_by \(measure.rawValue) needs CLUSTER SLOT-STATS '\(field)', which \(master.address)\(server) "
                        + "does not report; it reports \(offered.joined(separator: ", "))"
                        + (measure == .cpu ? ". Enable cluster-slot-stats-enabled on every master" : ""))
                }
            }
        }
        return figures
    }
}
