import Foundation
import HTTPServer
import Synchronization

/// Starts a server on an ephemeral port for one test and shuts it down afterwards.
enum TestServer {
    static func with(
        _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        handler: @escaping HTTPHandler = { request in .text(200, "hello \(request.path)") },
        _ body: (HTTPServer) throws -> Void
    ) throws {
        var configuration = HTTPServerConfiguration(port: 0, shutdownGrace: 5, log: { _ in })
        configure(&configuration)
        let server = HTTPServer(configuration: configuration, handler: handler)
        try server.start()
        defer { server.shutdown() }
        try body(server)
    }
}

/// Collects log lines from the server's threads.
final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    var log: @Sendable (String) -> Void {
        { line in self.lines.withLock { $0.append(line) } }
    }

    var recorded: [String] { lines.withLock { $0 } }
}
