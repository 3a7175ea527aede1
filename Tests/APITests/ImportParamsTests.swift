import Foundation
import Jobs
import Store
import Testing

/// The import kind's params: the source password sealed before they are stored, opened only for the cluster they
/// were sealed for, and its checkpoint saved with the keys moved.
@Suite struct ImportParamsTests {
    let password = "source-pw-do-not-store"

    func parse(_ body: [String: JSONValue]) throws -> ImportJob.Params {
        try ImportJob.parse(try RequestFields(body, allowed: ImportJob.fields.union(["dry_run"])))
    }

    @Test func thePasswordIsStoredSealedAndOpensOnlyForItsCluster() throws {
        let store = try Store(path: ":memory:")
        let params = try parse(["from": .string("127.0.0.1:6379"), "password": .string(password), "copy": .bool(true)])
        let sealed = try ImportJob.sealingSecrets(params) { try store.sealSecret($0, context: JobSecrets.context(clusterId: "a")) }
        let text = try JSONText.string(sealed)
        #expect(!text.contains(password) && text.contains("\"password_sealed\":\"v1:"), "\(text)")

        let decoded = try JSONText.decode(ImportJob.Params.self, from: text)
        #expect(decoded.password == nil)
        let opened = try ImportJob.openingSecrets(decoded) { try store.openSecret($0, context: JobSecrets.context(clusterId: "a")) }
        #expect(opened.password == password && opened.copy && !opened.replace)
        #expect(throws: (any Error).self) {
            try ImportJob.openingSecrets(decoded) { try store.openSecret($0, context: JobSecrets.context(clusterId: "b")) }
        }
    }

    @Test func badRequestsNameTheField() throws {
        #expect(throws: RequestFieldError.self) { try parse([:]) }
        #expect(throws: RequestFieldError.self) { try parse(["from": .string("nowhere")]) }
        #expect(throws: RequestFieldError.self) { try parse(["from": .string("127.0.0.1:6379"), "username": .string("u")]) }
        #expect(throws: RequestFieldError.self) { try parse(["from": .string("127.0.0.1:6379"), "password": .string("")]) }
        #expect(throws: RequestFieldError.self) { try parse(["from": .string("127.0.0.1:6379"), "max_keys_per_second": .int(0)]) }
        let plain = try parse(["from": .string("127.0.0.1:6379")])
        #expect(plain.password == nil && !plain.copy && !plain.replace && plain.maxKeysPerSecond == nil)
    }

    @Test func theCheckpointIsSavedWithTheKeysMoved() throws {
        let store = try Store(path: ":memory:")
        try store.insertCluster(ClusterRecord(id: "c", seeds: ["127.0.0.1:7000"], username: nil, password: nil,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
        let job = try store.insertJob(clusterId: "c", type: "import", params: "{}", actor: "t")
        #expect(try store.checkpoint(jobId: job.id) == nil)
        _ = try store.startJob(jobId: job.id, plan: #"{"summary":"x"}"#, slotsTotal: 0, snapshotBefore: nil)
        try store.saveCheckpoint(jobId: job.id, checkpoint: #"{"cursor":"42"}"#, keysMoved: 1000)
        #expect(try store.checkpoint(jobId: job.id) == #"{"cursor":"42"}"#)
        #expect(try store.job(job.id)?.keysMoved == 1000)
    }
}
