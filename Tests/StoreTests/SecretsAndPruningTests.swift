import Foundation
import Glibc
import SQLite
import Store
import Testing

/// Cluster passwords sealed under a key file outside the database, and pruning that never touches a live job.
@Suite struct SecretsAndPruningTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-secrets-\(UUID().uuidString).sqlite").path
    let password = "hunter2-correct-horse-battery-staple"

    func remove() {
        for suffix in ["", "-wal", "-shm", ".key", ".other-key"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    func register(_ store: Store, id: String = "c", password: String? = nil) throws {
        try store.insertCluster(ClusterRecord(id: id, seeds: ["127.0.0.1:7000"], username: nil, password: password,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
    }

    func fileContains(_ text: String) -> Bool {
        ["", "-wal", "-shm"].contains { suffix in
            FileManager.default.contents(atPath: path + suffix)?.range(of: Data(text.utf8)) != nil
        }
    }

    func mode(_ file: String) -> UInt32 {
        var info = stat()
        return stat(file, &info) == 0 ? UInt32(info.st_mode & 0o777) : 0
    }

    @Test func aPasswordIsStoredSealedAndOpensWithTheSameKeyFile() throws {
        defer { remove() }
        do {
            let store = try Store(path: path)
            try register(store, password: password)
            #expect(try store.cluster("c")?.password == password)
        }
        #expect(!fileContains(password))
        #expect(mode(path) == 0o600)
        #expect(mode(path + ".key") == 0o600)
        let reopened = try Store(path: path)
        #expect(try reopened.cluster("c")?.password == password)
        #expect(!String(describing: try reopened.cluster("c")!).contains(password))
    }

    @Test func anotherKeyFileIsRefusedAtStartNotLater() throws {
        defer { remove() }
        do {
            let store = try Store(path: path)
            try register(store, password: password)
        }
        #expect(throws: StoreError.self) { try Store(path: path, secretKeyPath: path + ".other-key") }
    }

    @Test func aMalformedKeyFileIsRefused() throws {
        defer { remove() }
        try "not base64 of 32 bytes\n".write(toFile: path + ".key", atomically: true, encoding: .utf8)
        #expect(throws: StoreError.self) { try Store(path: path) }
    }

    @Test func aSealedPasswordDoesNotOpenForAnotherClusterOrUnderAnotherKey() throws {
        let box = SecretBox.ephemeral()
        let sealed = try box.seal(password, context: "a")
        #expect(!sealed.contains(password))
        #expect(try box.open(sealed, context: "a") == password)
        #expect(throws: StoreError.self) { try box.open(sealed, context: "b") }
        #expect(throws: StoreError.self) { try SecretBox.ephemeral().open(sealed, context: "a") }
        // Two seals of the same password differ (a fresh nonce each time).
        #expect(try box.seal(password, context: "a") != sealed)
        var tampered = Array(sealed.utf8)
        let middle = tampered.count / 2
        tampered[middle] = tampered[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: StoreError.self) { try box.open(String(decoding: tampered, as: UTF8.self), context: "a") }
    }

    /// A database written by a version that kept passwords in plain text: opening it seals them and leaves no copy.
    @Test func plainPasswordsOfAnOlderVersionAreSealedAndWipedFromTheFile() throws {
        defer { remove() }
        do {
            let store = try Store(path: path)
            try register(store, password: nil)
            try store.database.write { db in try db.execute("UPDATE clusters SET password = ? WHERE id = 'c'", password) }
        }
        #expect(fileContains(password))
        let store = try Store(path: path)
        #expect(try store.cluster("c")?.password == password)
        #expect(!fileContains(password))
    }

    @Test func pruningTakesOnlyOldFinishedJobsEventsAndSnapshots() throws {
        defer { remove() }
        let store = try Store(path: path)
        try register(store)
        let old = "2020-01-01T00:00:00.000Z"
        let finished = try store.insertJob(clusterId: "c", type: "reshard", params: "{}", actor: "a")
        let running = try store.insertJob(clusterId: "c", type: "reshard", params: "{}", actor: "a")
        let recent = try store.insertJob(clusterId: "c", type: "reshard", params: "{}", actor: "a")
        for job in [finished, running, recent] {
            for index in 0..<5 { try store.appendEvent(jobId: job.id, message: "event \(index)") }
            try store.insertSnapshot(clusterId: "c", reason: "job-before", jobId: job.id, topology: "{}")
        }
        try store.insertSnapshot(clusterId: "c", reason: "manual", jobId: nil, topology: "{}")
        try store.insertSnapshot(clusterId: "c", reason: "manual", jobId: nil, topology: "{}")
        try store.database.write { db in
            try db.execute("UPDATE jobs SET status = 'succeeded', created_at = ?1, started_at = ?1, finished_at = ?1 WHERE id = ?2", old, finished.id)
            try db.execute("UPDATE jobs SET status = 'running', created_at = ?1, started_at = ?1 WHERE id = ?2", old, running.id)
            try db.execute("UPDATE jobs SET status = 'failed', finished_at = ?1 WHERE id = ?2", Timestamp.now(), recent.id)
            try db.execute("UPDATE snapshots SET created_at = ?", old)  // every snapshot is old; their jobs decide
            try db.execute("UPDATE snapshots SET created_at = ? WHERE id = (SELECT MAX(id) FROM snapshots)", Timestamp.now())
        }
        let result = try store.prune(before: Date().addingTimeInterval(-86_400), batch: 2)
        #expect(result == PruneResult(events: 5, snapshots: 2))
        #expect(try store.events(jobId: finished.id).isEmpty)
        #expect(try store.events(jobId: running.id).count == 5)
        #expect(try store.events(jobId: recent.id).count == 5)
        #expect(try store.job(finished.id)?.status == .succeeded)
        let left = try store.snapshots(clusterId: "c", before: nil, limit: 50)
        #expect(left.count == 3)
        #expect(!left.contains { $0.jobId == finished.id })
        #expect(try store.prune(before: Date().addingTimeInterval(-86_400)) == PruneResult())
    }
}
