import API
import ClusterOps
import Foundation
import HTTPServer
import Jobs
import Store

/// The real service (router, store, HTTP server) on an ephemeral loopback port with a temp database.
final class TestService: @unchecked Sendable {
    let server: HTTPServer
    let store: Store
    let worker: JobWorker
    let client: HTTPTestClient
    let databasePath: String
    /// Where backup jobs write: a temp directory of its own unless given.
    let backups: BackupDirectory

    /// `startWorker: false` leaves queued jobs queued, so a test can move them through the store itself.
    /// `settings`: how jobs reach the nodes (a test may shorten the read timeout).
    init(databasePath: String? = nil, heartbeat: Double = 15, startWorker: Bool = true,
         settings: ConnectionSettings = ConnectionSettings(), backupRoot: URL? = nil, maxQueuedJobs: Int = 100) throws {
        self.databasePath = databasePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("rcm-\(UUID().uuidString).sqlite").path
        backups = BackupDirectory(root: backupRoot ?? URL(fileURLWithPath: self.databasePath + ".backups"))
        store = try Store(path: self.databasePath)
        worker = JobWorker(store: store, settings: settings, backups: backups, log: { _ in })
        if startWorker { worker.start() }
        let api = APIService(store: store, backups: backups, maxQueuedJobs: maxQueuedJobs, heartbeat: heartbeat, log: { _ in })
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.log = { _ in }
        server = HTTPServer(configuration: configuration, handler: api.handler)
        try server.start()
        client = HTTPTestClient(port: server.port)
    }

    func stop() {
        worker.stop()
        server.shutdown()
        for suffix in ["", "-wal", "-shm", ".key", ".backups"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
    }

    deinit { stop() }
}
