import Foundation

/// The real binary serving with the standard tokens file (alice admin, ci operator, grafana read) and a temporary
/// database; `stop()` kills it and removes both files.
final class SecuredService {
    let tokensPath: String
    let databasePath: String
    let arguments: [String]
    private(set) var process: ServiceProcess

    init(arguments: [String] = []) throws {
        tokensPath = try AccessIntegrationTests.tokensFile(AccessIntegrationTests.standardTokens)
        databasePath = AccessIntegrationTests.databasePath()
        self.arguments = ["--tokens-file", tokensPath] + arguments
        process = try ServiceProcess(databasePath: databasePath, arguments: self.arguments)
    }

    var port: UInt16 { process.port }
    var url: String { "http://127.0.0.1:\(process.port)" }
    var log: String { process.log }

    func client(_ token: String?) -> HTTPTestClient {
        var client = process.client
        client.token = token
        return client
    }

    var admin: HTTPTestClient { client(AccessIntegrationTests.adminToken) }
    var reader: HTTPTestClient { client(AccessIntegrationTests.readToken) }

    /// kill -9, then the same binary on the same files.
    func restart() throws {
        process.kill9()
        process = try ServiceProcess(databasePath: databasePath, arguments: arguments)
    }

    func stop() {
        process.kill9()
        try? FileManager.default.removeItem(atPath: tokensPath)
        AccessIntegrationTests.removeDatabase(databasePath)
    }
}

extension ServiceProcess {
    /// Runs the binary to its end (a start it must refuse); its exit status and standard error.
    static func runToExit(_ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
