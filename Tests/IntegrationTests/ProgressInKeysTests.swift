import ClusterModel
import Foundation
import RESP
import Testing

/// Progress that tells the truth when keys are not spread evenly: keys sit in two hash-tag slots, as
/// `redis-benchmark --cluster` and many applications put them, and a throttled move of those slots is watched.
@Suite(.serialized)
struct ProgressInKeysTests {
    /// Writes `count` keys under the hash tags `tags` (in turn) on the masters that own their slots.
    static func writeHot(count: Int, tags: [String], seed: String) throws {
        let owners = try ClusterKeys.owners(seed: seed, credentials: nil)
        for (index, tag) in tags.enumerated() {
            let owner = owners[HashSlot.slot(for: tag)]
            let connection = try RedisConnection(endpoint: RedisEndpoint(owner)!)
            defer { connection.close() }
            let mine = stride(from: index, to: count, by: tags.count).map { $0 }
            for start in stride(from: 0, to: mine.count, by: 5000) {
                let commands = mine[start..<min(start + 5000, mine.count)].map { ["SET", "{\(tag)}:\($0)", "v\($0)"].map { Array($0.utf8) } }
                for result in try connection.pipeline(commands) { _ = try result.get() }
            }
        }
    }

    /// The hot-slot move: the job counts its keys first (`keys_total`), `keys_moved` takes many values while the
    /// two slots move, never goes back, and ends equal to the keys the target received.
    @Test func keysMovedAdvancesWithEveryBatchOfAHotSlot() throws {
        let cluster = try TestCluster(nodes: 4)
        try cluster.create(count: 3, replicas: 0)
        let service = try TestService()
        defer { service.stop(); cluster.stop() }
        let client = service.client
        #expect(try client.post("/clusters", #"{"id":"hot","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        let tags = ["hot-a", "hot-b"]
        let keys = 40_000
        try Self.writeHot(count: keys, tags: tags, seed: cluster.nodes[0].address)
        let target = cluster.nodes[3]
        try client.runJob("hot", "add-node", #"{"address":"\#(target.address)"}"#)

        let slots = tags.map { HashSlot.slot(for: $0) }.sorted()
        let ranges = slots.map { "[\($0),\($0)]" }.joined(separator: ",")
        let id = try client.submit("hot", "reshard", #"{"to":"\#(target.address)","slot_ranges":[\#(ranges)],"max_keys_per_second":10000}"#)
        var seen: [Int] = []
        var totals: Set<Int> = []
        var job: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            job = try client.get("/jobs/\(id)").object
            let progress = job["progress"] as? [String: Any] ?? [:]
            if let moved = progress["keys_moved"] as? Int { seen.append(moved) }
            if let total = progress["keys_total"] as? Int { totals.insert(total) }
            if ["succeeded", "failed", "cancelled"].contains(job["status"] as? String ?? "") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(job["status"] as? String == "succeeded", "\(job["error"] ?? "")")
        let received = Int(try target.cli(["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(received == keys)
        let final = (job["progress"] as? [String: Any])?["keys_moved"] as? Int
        #expect(final == received, "keys_moved ended at \(final ?? -1), the target received \(received)")
        #expect(totals == [keys], "keys_total took \(totals)")
        // Two slots, about 4 s under the throttle: many distinct values, in order.
        let distinct = Set(seen).count
        #expect(distinct >= 8, "keys_moved took \(distinct) distinct values in \(seen.count) polls: \(seen)")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 }, "keys_moved went back: \(seen)")
    }
}
