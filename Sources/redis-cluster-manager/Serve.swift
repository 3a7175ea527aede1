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
            Every option can also be set from the environment: RCM_LISTEN, RCM_DB, RCM_TOKENS_FILE,
            RCM_SECRET_KEY_FILE, RCM_RETAIN_DAYS, RCM_BACKUP_DIR, RCM_MAX_QUEUED_JOBS, RCM_PUBLIC_HOSTS, RCM_ALLOWED_ORIGINS,
            RCM_ALLOW_REMOTE_NODES=1. Options on the command line win.

            Requests must name the service in Host (an IP address, localhost, the --listen host or a --public-host),
            send bodies as application/json, and come from no other web origin than the service's own (or an
            --allowed-origins one): a web page open in a browser on the same host cannot drive the service.

            Without a tokens file the service only listens on a loopback address and every caller acts as
            'anonymous'. SIGHUP reloads the tokens file.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT ([::1]:PORT for IPv6). Env: RCM_LISTEN.")
    var listen: String = ProcessInfo.processInfo.environment["RCM_LISTEN"] ?? "127.0.0.1:8080"

    @Option(help: "SQLite database file; its directory is created. Env: RCM_DB.")
    var db: String = ProcessInfo.processInfo.environment["RCM_DB"] ?? "./data/redis-cluster-manager.sqlite"

    @Option(help: "Tokens file, one 'NAME ROLE TOKEN' per line (ROLE: read, operator, admin); reloaded on SIGHUP. Env: RCM_TOKENS_FILE.")
    var tokensFile: String? = ProcessInfo.processInfo.environment["RCM_TOKENS_FILE"].flatMap { $0.isEmpty ? nil : $0 }

    @Option(help: "File holding the key that seals cluster passwords in the database; created (0600) at first start. Default: the database path + '.key'. Env: RCM_SECRET_KEY_FILE.")
    var secretKeyFile: String? = ProcessInfo.processInfo.environment["RCM_SECRET_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }

    @Option(help: "Days to keep the events and snapshots of finished jobs (and manual snapshots); 0 keeps them forever. Env: RCM_RETAIN_DAYS.")
    var retainDays: Int = ProcessInfo.processInfo.environment["RCM_RETAIN_DAYS"].flatMap { Int($0) } ?? 90

    @Option(help: "Directory backup jobs write into (one folder per cluster, then per backup; created 0700). Default: 'backups' beside the database. Env: RCM_BACKUP_DIR.")
    var backupDir: String? = ProcessInfo.processInfo.environment["RCM_BACKUP_DIR"].flatMap { $0.isEmpty ? nil : $0 }

    @Option(help: "Jobs that may wait in one cluster's queue; more are refused with 429 and Retry-After. Env: RCM_MAX_QUEUED_JOBS.")
    var maxQueuedJobs: Int = ProcessInfo.processInfo.environment["RCM_MAX_QUEUED_JOBS"].flatMap { Int($0) } ?? 100

    @Option(help: "A host name the service is reached by besides its IP addresses and localhost (behind a proxy, a DNS name); comma-separated or repeated. Env: RCM_PUBLIC_HOSTS.")
    var publicHost: [String] = (ProcessInfo.processInfo.environment["RCM_PUBLIC_HOSTS"] ?? "").split(separator: ",").map(String.init)

    @Option(help: "Web origins (scheme://host[:port]) whose pages may call the service, besides its own; comma-separated or repeated. Env: RCM_ALLOWED_ORIGINS.")
    var allowedOrigins: [String] = (ProcessInfo.processInfo.environment["RCM_ALLOWED_ORIGINS"] ?? "").split(separator: ",").map(String.init)

    @Option(help: "Seconds between the topology reads behind the per-cluster /metrics gauges (never read on a scrape). Env: RCM_GAUGES_INTERVAL.")
    var gaugesInterval: Double = ProcessInfo.processInfo.environment["RCM_GAUGES_INTERVAL"].flatMap { Double($0) } ?? 15

    @Flag(help: "Allow registering and contacting non-loopback nodes. Env: RCM_ALLOW_REMOTE_NODES=1.")
    var allowRemoteNodes: Bool = ["1", "true", "yes"].contains(ProcessInfo.processInfo.environment["RCM_ALLOW_REMOTE_NODES"]?.lowercased() ?? "")

    func validate() throws {
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080")
        }
        guard gaugesInterval.isFinite, (1...86_400).contains(gaugesInterval) else {
            throw ValidationError("--gauges-interval must be from 1 to 86400 seconds")
        }
        guard (0...36500).contains(retainDays) else {
            throw ValidationError("--retain-days must be from 0 (keep forever) to 36500")
        }
        guard (1...100_000).contains(maxQueuedJobs) else {
            throw ValidationError("--max-queued-jobs must be from 1 to 100000")
        }
        if let backupDir, backupDir.isEmpty || backupDir.contains("\0") {
            throw ValidationError("--backup-dir must be a directory path")
        }
    }

    func run() throws {
        let log = Log.line
        // A file-size limit must cost a failed write (SQLite reports it, the API answers 503), not the process.
        signal(SIGXFSZ, SIG_IGN)
        let address = ListenAddress(listen)!
        var tokens: TokenTable?
        if let tokensFile {
            do {
                tokens = try TokenTable.load(path: tokensFile)
            } catch {
                log("cannot use tokens file \(tokensFile): \(error)")
                throw ExitCode(1)
            }
            TokensFileMode.warnIfShared(tokensFile, log: log)
        } else if !address.isLoopback {
            log("refusing to listen on \(listen) without a tokens file: anyone who can reach it could change every cluster. Give --tokens-file (or RCM_TOKENS_FILE), or listen on 127.0.0.1 / [::1]")
            throw ExitCode(2)
        }
        let store: Store
        do {
            store = try Store(path: db, secretKeyPath: secretKeyFile, log: log)
        } catch {
            log("cannot open database \(db): \(error)")
            throw ExitCode(1)
        }
        let settings = ConnectionSettings(allowRemoteNodes: allowRemoteNodes)
        let backups = BackupDirectory(root: URL(fileURLWithPath: backupDir
            ?? URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("backups").path))
        let worker = JobWorker(store: store, settings: settings, backups: backups, log: log)
        let access = AccessControl(tokens: tokens)
        let gate = RequestGate(listenHost: address.host,
                               publicHosts: publicHost.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) },
                               allowedOrigins: allowedOrigins.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) })
        let api = APIService(store: store, settings: settings, access: access, backups: backups, maxQueuedJobs: maxQueuedJobs,
                             gate: gate, log: log)
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
        log("listening on \(address.host.contains(":") ? "[\(address.host)]" : address.host):\(server.port), database \(db), "
            + "backups in \(backups.root.path), "
            + (tokens.map { "\($0.count) tokens" } ?? "no tokens file (loopback only, every caller is anonymous)"))

        worker.start()
        api.startClusterGauges(interval: gaugesInterval)
        let pruner = Pruner(store: store, retainDays: retainDays, backups: backups, log: log)
        pruner.start()

        let reload = SignalWatcher(signals: [SIGHUP]) { _ in
            guard let tokensFile else {
                log("SIGHUP: no tokens file to reload")
                return
            }
            do {
                let table = try TokenTable.load(path: tokensFile)
                access.replace(table)
                TokensFileMode.warnIfShared(tokensFile, log: log)
                log("SIGHUP: reloaded \(tokensFile), \(table.count) tokens")
            } catch {
                log("SIGHUP: kept the tokens loaded before; \(tokensFile) is unusable: \(error)")
            }
        }

        let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { signal in
            log("received signal \(signal), shutting down")
            // Jobs pause at a safe point (they resume on the next start) and held long-polls are answered.
            worker.stop(timeout: 3)
            server.shutdown()
        }
        server.waitUntilStopped()
        signals.cancel()
        reload.cancel()
        pruner.stop()
        api.stopClusterGauges()
        do {
            try store.checkpoint()
        } catch {
            log("could not checkpoint the database at shutdown (it stays consistent; the next start replays the log): \(error)")
        }
        log("stopped")
    }
}
