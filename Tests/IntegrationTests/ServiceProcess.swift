import Foundation
import Glibc

/// The real `redis-cluster-manager` binary as a child process, so tests can kill -9 it mid-job.
final class ServiceProcess: @unchecked Sendable {
    let databasePath: String
    let port: UInt16
    private let process = Process()
    let logPath: String

    var client: HTTPTestClient { HTTPTestClient(port: port) }

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["RCM_BINARY"] { return URL(fileURLWithPath: path) }
        // Tests/IntegrationTests/ServiceProcess.swift → package root → .build/debug
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/redis-cluster-manager")
    }

    /// `fileSizeLimit` (bytes) runs the service under RLIMIT_FSIZE, as a full disk would stop its writes.
    /// `arguments` are added to `serve`'s (e.g. `--tokens-file`).
    init(databasePath: String, fileSizeLimit: Int? = nil, arguments extra: [String] = []) throws {
        self.databasePath = databasePath
        port = UInt16(PortAllocator.redisPort())
        logPath = databasePath + ".\(port).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        // Backups beside this database, not in a folder every test's service would share.
        let backups = extra.contains("--backup-dir") ? [] : ["--backup-dir", databasePath + ".backups"]
        let arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--db", databasePath] + backups + extra
        if let fileSizeLimit {
            // prlimit sets the limit and execs the service, so the child process is the service itself.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--fsize=\(fileSizeLimit)", "--", ServiceProcess.binary.path] + arguments
        } else {
            process.executableURL = ServiceProcess.binary
            process.arguments = arguments
        }
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        for _ in 0..<200 {
            if (try? client.get("/healthz"))?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("service did not come up; log:\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// SIGKILL: no shutdown handler runs, exactly as in a crash.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits; returns the exit status.
    func terminate() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { kill9() }
}
