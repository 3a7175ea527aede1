import API
import ClusterOps
import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import Jobs
import Store

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service.",
        discussion: """
            Every option can also be set from the environment: RCM_LISTEN, RCM_DB, RCM_ALLOW_REMOTE_NODES=1.
            Options on the command line win.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT ([::1]:PORT for IPv6). Env: RCM_LISTEN.")
    var listen: String = ProcessInfo.processInfo.environment["RCM_LISTEN"] ?? "127.0.0.1:8080"

    @Option(help: "SQLite database file; its directory is created. Env: RCM_DB.")
    var db: String = ProcessInfo.processInfo.environment["RCM_DB"] ?? "./data/redis-cluster-manager.sqlite"

    @Flag(help: "Allow registering and contacting non-loopback nodes. Env: RCM_ALLOW_REMOTE_NODES=1.")
    var allowRemoteNodes: Bool = ["1", "true", "yes"].contains(ProcessInfo.processInfo.environment["RCM_ALLOW_REMOTE_NODES"]?.lowercased() ?? "")

    func validate() throws {
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080")
        }
    }

    func run() throws {
        let log = Log.line
        // A file-size limit must cost a failed write (SQLite reports it, the API answers 503), not the process.
        signal(SIGXFSZ, SIG_IGN)
        let address = ListenAddress(listen)!
        let store: Store
        do {
            store = try Store(path: db)
        } catch {
            log("cannot open database \(db): \(error)")
            throw ExitCode(1)
        }
        let settings = ConnectionSettings(allowRemoteNodes: allowRemoteNodes)
        let worker = JobWorker(store: store, settings: settings, log: log)
        let api = APIService(store: store, settings: settings, log: log)
        var configuration = HTTPServerConfiguration()
        configuration.host = address.host
        configuration.port = address.port
        configuration.log = log
        // With the worker's 3 s below, SIGTERM to exit stays under 10 s.
        configuration.shutdownGrace = 6
        let server = HTTPServer(configuration: configuration, handler: api.handler)
        do {
            try server.start()
        } catch {
            log("cannot listen on \(listen): \(error)")
            throw ExitCode(1)
        }
        log("listening on \(address.host.contains(":") ? "[\(address.host)]" : address.host):\(server.port), database \(db)")

        worker.start()

        let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { signal in
            log("received signal \(signal), shutting down")
            // Jobs pause at a safe point (they resume on the next start) and held long-polls are answered.
            worker.stop(timeout: 3)
            server.shutdown()
        }
        server.waitUntilStopped()
        signals.cancel()
        log("stopped")
    }
}
