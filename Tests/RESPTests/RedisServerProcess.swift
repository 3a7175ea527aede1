import Foundation
import Glibc
import RESP

/// A throwaway `redis-server` on a free loopback port with its own temp directory,
/// stopped by `stop()` or when released.
final class RedisServerProcess {
    let port: Int
    let directory: URL
    private let process: Process

    var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    struct StartFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// With `tls`, the server listens on TLS only (`--port 0 --tls-port`), with `tls.serverArguments`; readiness is
    /// checked over TLS with the test CA and client certificate.
    init(cluster: Bool = false, arguments: [String] = [], tls: TestCertificates? = nil, authClients: String = "no") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("resp-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var extra = arguments
        if cluster {
            extra += ["--cluster-enabled", "yes", "--cluster-config-file", directory.appendingPathComponent("nodes.conf").path]
        }
        do {
            (port, process) = try Self.launch(in: directory, arguments: extra, tls: tls, authClients: authClients)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        stop()
    }

    func stop() {
        Self.kill(process)
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL, not `terminate()`: the child inherits the spawning thread's signal mask,
    /// which can block SIGTERM, and a test server has nothing to save anyway.
    private static func kill(_ process: Process) {
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// The free port may be taken between probing and binding, so a failed start is retried on a new one.
    private static func launch(in directory: URL, arguments: [String], tls: TestCertificates?,
                               authClients: String) throws -> (Int, Process) {
        for _ in 0..<5 {
            let port = try freeLoopbackPort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            let listen = tls?.serverArguments(port: port, authClients: authClients) ?? ["--port", String(port)]
            process.arguments = listen + [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", directory.path,
                "--logfile", directory.appendingPathComponent("redis.log").path,
            ] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if waitUntilReady(port: port, process: process, tls: tls?.client) {
                return (port, process)
            }
            kill(process)
        }
        throw StartFailed(description: "redis-server did not start; see logs in \(directory.path)")
    }

    /// Ready once PING is answered; NOAUTH counts, since the server is then up but wants a password.
    private static func waitUntilReady(port: Int, process: Process, tls: TLSConfiguration?) -> Bool {
        let endpoint = RedisEndpoint(host: "127.0.0.1", port: port)
        for _ in 0..<100 where process.isRunning {
            do throws(RedisError) {
                let connection = try RedisConnection(endpoint: endpoint, tls: tls, connectTimeout: 0.5, readTimeout: 1)
                _ = try connection.command(["PING"])
                return true
            } catch {
                if case .noAuth = error { return true }
                // A TLS refusal (a test's deliberately untrusted certificate) also means it is up.
                if case .tlsFailed = error { return true }
            }
            usleep(50_000)
        }
        return false
    }

    /// A port nothing listens on right now: bind to port 0 and read back what the kernel chose.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartFailed(description: "socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard bound else { throw StartFailed(description: "bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
