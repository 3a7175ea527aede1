import ClusterModel
import Foundation
import RESP

/// Writes and reads back many keys through a cluster, routed by hash slot and pipelined per node — the way a
/// real cluster client would, without depending on the service under test.
enum ClusterKeys {
    static func key(_ index: Int) -> String { "key:\(index)" }
    static func value(_ index: Int) -> String { "value:\(index)" }

    /// Slot → owner address, from CLUSTER SLOTS of `seed`.
    static func owners(seed: String, credentials: RedisCredentials?, tls: TLSConfiguration? = nil) throws -> [String] {
        let connection = try RedisConnection(endpoint: RedisEndpoint(seed)!, credentials: credentials, tls: tls)
        defer { connection.close() }
        var owners = Array(repeating: "", count: HashSlot.count)
        for range in try connection.command(["CLUSTER", "SLOTS"]).array ?? [] {
            guard let parts = range.array, parts.count >= 3, let first = parts[0].int, let last = parts[1].int,
                  let master = parts[2].array, master.count >= 2, let host = master[0].string, let port = master[1].int else { continue }
            for slot in Int(first)...Int(last) { owners[slot] = "\(host):\(port)" }
        }
        return owners
    }

    static func write(count: Int, seed: String, credentials: RedisCredentials? = nil, tls: TLSConfiguration? = nil) throws {
        try forEachOwner(count: count, seed: seed, credentials: credentials, tls: tls) { connection, indexes in
            for batch in stride(from: 0, to: indexes.count, by: 2000) {
                let commands = indexes[batch..<min(batch + 2000, indexes.count)].map { index in
                    ["SET", key(index), value(index)].map { Array($0.utf8) }
                }
                for result in try connection.pipeline(commands) { _ = try result.get() }
            }
        }
    }

    /// How many of the keys read back with their value.
    static func verify(count: Int, seed: String, credentials: RedisCredentials? = nil, tls: TLSConfiguration? = nil) throws -> Int {
        var correct = 0
        try forEachOwner(count: count, seed: seed, credentials: credentials, tls: tls) { connection, indexes in
            for batch in stride(from: 0, to: indexes.count, by: 2000) {
                let slice = indexes[batch..<min(batch + 2000, indexes.count)]
                let results = try connection.pipeline(slice.map { ["GET", key($0)].map { Array($0.utf8) } })
                for (index, result) in zip(slice, results) where (try? result.get())?.string == value(index) {
                    correct += 1
                }
            }
        }
        return correct
    }

    /// Indexes of the keys that do not read back with their value.
    static func missing(count: Int, seed: String, credentials: RedisCredentials? = nil) throws -> [Int] {
        var missing: [Int] = []
        try forEachOwner(count: count, seed: seed, credentials: credentials, tls: nil) { connection, indexes in
            for batch in stride(from: 0, to: indexes.count, by: 2000) {
                let slice = indexes[batch..<min(batch + 2000, indexes.count)]
                let results = try connection.pipeline(slice.map { ["GET", key($0)].map { Array($0.utf8) } })
                for (index, result) in zip(slice, results) where (try? result.get())?.string != value(index) {
                    missing.append(index)
                }
            }
        }
        return missing.sorted()
    }

    private static func forEachOwner(count: Int, seed: String, credentials: RedisCredentials?, tls: TLSConfiguration?,
                                     _ body: (RedisConnection, [Int]) throws -> Void) throws {
        let owners = try owners(seed: seed, credentials: credentials, tls: tls)
        var byOwner: [String: [Int]] = [:]
        for index in 0..<count {
            byOwner[owners[HashSlot.slot(for: Array(key(index).utf8))], default: []].append(index)
        }
        for (owner, indexes) in byOwner {
            guard let endpoint = RedisEndpoint(owner) else { throw TestFailure("slot without owner (\(indexes.count) keys)") }
            let connection = try RedisConnection(endpoint: endpoint, credentials: credentials, tls: tls, readTimeout: 30)
            defer { connection.close() }
            try body(connection, indexes)
        }
    }
}
