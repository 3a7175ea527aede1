import ClusterModel
import RESP

/// What the keys of some slots weigh on their owner, read before they move: the count of each slot
/// (`CLUSTER COUNTKEYSINSLOT`), their bytes (`MEMORY USAGE`), and the keys above a size. Below `exactBudget` keys
/// every key is measured; above it, a few keys per slot are, and bytes are scaled from them (`sampled`).
public struct SlotSampler {
    public struct BigKey: Sendable, Equatable, Codable {
        public var key: String
        public var bytes: Int64
        public var node: String
    }

    public struct Sample: Sendable, Equatable {
        public var keys: Int64 = 0
        public var bytes: Int64 = 0
        public var bigKeys: [BigKey] = []
        /// True when bytes were estimated from some keys per slot rather than measured for all.
        public var sampled = false
    }

    let session: ClusterSession
    public var exactBudget: Int64 = 50_000
    public var samplesPerSlot = 4
    public var bigKeyBytes: Int64

    public init(session: ClusterSession, bigKeyBytes: Int64) {
        self.session = session
        self.bigKeyBytes = bigKeyBytes
    }

    /// Measures `slots` on their owner `address`.
    public func sample(_ address: String, slots: SlotSet) throws(ClusterOpsError) -> Sample {
        var sample = Sample()
        let list = slots.slots
        var counts: [(slot: Int, keys: Int64)] = []
        for start in stride(from: 0, to: list.count, by: 2048) {
            let chunk = Array(list[start..<min(start + 2048, list.count)])
            let replies = try session.pipelineAll(address, chunk.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] }, idempotent: true)
            for (slot, reply) in zip(chunk, replies) where (reply.int ?? 0) > 0 {
                counts.append((slot, reply.int ?? 0))
            }
        }
        sample.keys = counts.reduce(0) { $0 + $1.keys }
        guard sample.keys > 0 else { return sample }
        sample.sampled = sample.keys > exactBudget
        // Key names, all of them or a few per slot, in batches of slots per round trip.
        for start in stride(from: 0, to: counts.count, by: 256) {
            let chunk = Array(counts[start..<min(start + 256, counts.count)])
            let names = try session.pipelineAll(address, chunk.map { entry in
                ["CLUSTER", "GETKEYSINSLOT", "\(entry.slot)", "\(sample.sampled ? Int64(samplesPerSlot) : entry.keys)"]
            }, idempotent: true)
            var keys: [[UInt8]] = []
            var owners: [Int] = []
            for (index, reply) in names.enumerated() {
                for name in reply.array ?? [] {
                    if let bytes = name.bytes {
                        keys.append(bytes)
                        owners.append(index)
                    }
                }
            }
            var sizes = [Int64](repeating: 0, count: chunk.count)
            var measured = [Int64](repeating: 0, count: chunk.count)
            for batchStart in stride(from: 0, to: keys.count, by: 1000) {
                let batch = Array(keys[batchStart..<min(batchStart + 1000, keys.count)])
                let replies = try session.pipeline(address, bytes: batch.map { [Array("MEMORY".utf8), Array("USAGE".utf8), $0] },
                                                   idempotent: true)
                for (offset, reply) in replies.enumerated() {
                    guard case .success(let value) = reply, let size = value.int else { continue }
                    let index = owners[batchStart + offset]
                    sizes[index] += size
                    measured[index] += 1
                    if size >= bigKeyBytes {
                        sample.bigKeys.append(BigKey(key: String(decoding: batch[offset], as: UTF8.self), bytes: size, node: address))
                    }
                }
            }
            for (index, entry) in chunk.enumerated() where measured[index] > 0 {
                sample.bytes += sizes[index] * entry.keys / measured[index]
            }
        }
        sample.bigKeys.sort { $0.bytes > $1.bytes }
        return sample
    }
}
