import API
import Foundation
import HTTPServer
import Store

/// The real service (router, store, HTTP server) on an ephemeral loopback port with a temp database.
final class TestService: @unchecked Sendable {
    let server: HTTPServer
    let store: Store
    let client: HTTPTestClient
    let databasePath: String

    init() throws {
        databasePath = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-\(UUID().uuidString).sqlite").path
        store = try Store(path: databasePath)
        let api = APIService(store: store, log: { _ in })
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.log = { _ in }
        server = HTTPServer(configuration: configuration, handler: api.handler)
        try server.start()
        client = HTTPTestClient(port: server.port)
    }

    func stop() {
        server.shutdown()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
    }

    deinit { stop() }
}
