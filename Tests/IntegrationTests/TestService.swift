import API
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

    init(databasePath: String? = nil, heartbeat: Double = 15) throws {
        self.databasePath = databasePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("rcm-\(UUID().uuidString).sqlite").path
        store = try Store(path: self.databasePath)
        worker = JobWorker(store: store, log: { _ in })
        worker.start()
        let api = APIService(store: store, heartbeat: heartbeat, log: { _ in })
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
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
    }

    deinit { stop() }
}
