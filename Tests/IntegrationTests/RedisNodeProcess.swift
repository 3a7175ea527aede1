import Foundation

/// One real `redis-server` (or `valkey-server`) in cluster mode (or standalone) on a loopback port, in its own temp directory.
final class RedisNodeProcess: @unchecked Sendable {
    let port: Int
    let directory: URL
    let password: String?
    let server: ServerKind
    /// Set: the node listens on TLS only, with the cluster bus and replication over TLS.
    let tls: TestCertificates?
    let authClients: String
    /// Appends every write to an AOF, fsynced before the reply: a node killed with SIGKILL and started again
    /// comes back with every write it acknowledged.
    let persistent: Bool
    /// False: a standalone server (no --cluster-enabled), as an import's source.
    let clusterEnabled: Bool
    /// More server flags, after the defaults (a later `--bind` or `--cluster-port` wins).
    let extraArguments: [String]
    private var process: Process?

    var address: String { "127.0.0.1:\(port)" }
    var logPath: String { directory.appendingPathComponent(server == .valkey ? "valkey.log" : "redis.log").path }

    init(port: Int, directory: URL, password: String?, server: ServerKind = .redis, tls: TestCertificates? = nil,
         authClients: String = "no", persistent: Bool = false, clusterEnabled: Bool = true, extraArguments: [String] = []) {
        self.extraArguments = extraArguments
        self.persistent = persistent
        self.clusterEnabled = clusterEnabled
        self.port = port
        self.directory = directory
        self.password = password
        self.server = server
        self.tls = tls
        self.authClients = authClients
    }

    /// redis-cli's flags for this node's password and TLS (no host or port).
    var cliOptions: [String] {
        var options: [String] = []
        if let password { options += ["-a", password, "--no-auth-warning"] }
        if let tls { options += tls.cliArguments }
        return options
    }

    func start() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = try server.executable()
        let listen = tls?.serverArguments(port: port, authClients: authClients) ?? ["--port", "\(port)"]
        var arguments = listen + ["--bind", "127.0.0.1"]
        if clusterEnabled {
            arguments += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"]
        }
        arguments += ["--dir", directory.path, "--save", "", "--daemonize", "no", "--logfile", logPath]
        arguments += persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        if let password { arguments += ["--requirepass", password, "--masterauth", password] }
        process.arguments = arguments + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<100 {
            if (try? cli(["PING"]))?.contains("PONG") == true { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").suffix(10)
        throw TestFailure("\(server) on \(port) did not answer PING; log:\n\(log.joined(separator: "\n"))")
    }

    /// Stops the process abruptly (as a crash would).
    func kill() {
        guard let process, process.isRunning else { return }
        process.interrupt()
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// SIGSTOP: the process freezes with its sockets open, as a node stalled by the host would.
    func pause() {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGSTOP) }
    }

    /// SIGCONT after `pause()`.
    func resume() {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGCONT) }
    }

    /// Runs redis-cli against this node and returns its standard output.
    @discardableResult
    func cli(_ arguments: [String]) throws -> String {
        try RedisNodeProcess.run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", "\(port)"] + cliOptions + arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    deinit { kill() }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
