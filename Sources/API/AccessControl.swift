import COpenSSL
import Foundation
import HTTPServer

/// What a token may do. Each role may do everything the one before it may.
public enum Role: Int, Sendable, Comparable, CaseIterable {
    /// Every GET, and /metrics.
    case read
    /// Also runs jobs (every job submission) and cancels them, and takes snapshots.
    case `operator`
    /// Also registers and deletes clusters.
    case admin

    public init?(name: String) {
        switch name {
        case "read": self = .read
        case "operator": self = .operator
        case "admin": self = .admin
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .read: "read"
        case .operator: "operator"
        case .admin: "admin"
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who a request acts as. Its name is the `actor` of the jobs it submits and of the audit entries it causes.
public struct Principal: Sendable, Equatable {
    public var name: String
    public var role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    /// Without a tokens file (loopback only) every request acts as this.
    public static let anonymous = Principal(name: "anonymous", role: .admin)
}

/// The tokens file: one `NAME ROLE TOKEN` per line, blank lines and `#` comments ignored. Only SHA-256 digests of
/// the tokens are kept, and a presented token is checked against every entry without stopping early, in constant
/// time for its digest, so neither timing nor a memory dump gives a token away.
public struct TokenTable: Sendable {
    struct Entry: Sendable {
        var principal: Principal
        var digest: [UInt8]
    }

    static let minimumTokenLength = 16
    let entries: [Entry]

    public var count: Int { entries.count }

    /// Parses the file's text. Errors name the line, never the token.
    public init(text: String) throws(TokenFileError) {
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let number = index + 1
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 3 else { throw TokenFileError(line: number, "expected NAME ROLE TOKEN") }
            let (name, roleName, token) = (fields[0], fields[1], fields[2])
            guard TokenTable.isValidName(name) else {
                throw TokenFileError(line: number, "NAME must be 1 to 64 of A-Z a-z 0-9 . _ @ -")
            }
            guard let role = Role(name: roleName) else {
                throw TokenFileError(line: number, "ROLE must be read, operator or admin")
            }
            guard token.utf8.count >= TokenTable.minimumTokenLength, token.utf8.count <= 4096,
                  token.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
                throw TokenFileError(line: number, "TOKEN must be \(TokenTable.minimumTokenLength) to 4096 visible ASCII characters (e.g. `openssl rand -hex 32`)")
            }
            let digest = TokenTable.digest(token)
            if entries.contains(where: { $0.principal.name == name }) {
                throw TokenFileError(line: number, "NAME '\(name)' is already used by an earlier line")
            }
            if entries.contains(where: { $0.digest == digest }) {
                throw TokenFileError(line: number, "the TOKEN repeats an earlier line's")
            }
            entries.append(Entry(principal: Principal(name: name, role: role), digest: digest))
        }
        guard !entries.isEmpty else { throw TokenFileError(line: 0, "the file has no tokens") }
        self.entries = entries
    }

    public static func load(path: String) throws(TokenFileError) -> TokenTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenFileError(line: 0, "cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TokenFileError(line: 0, "\(path) is not UTF-8") }
        return try TokenTable(text: text)
    }

    /// The principal whose token this is, or nil.
    public func principal(for token: String) -> Principal? {
        let presented = TokenTable.digest(token)
        var found: Principal?
        for entry in entries {
            // Every entry is compared, whatever matched before.
            if CRYPTO_memcmp(entry.digest, presented, presented.count) == 0 { found = entry.principal }
        }
        return found
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte)
                || byte == 0x2e || byte == 0x5f || byte == 0x40 || byte == 0x2d
        }
    }

    static func digest(_ token: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = Array(token.utf8)
        _ = SHA256(bytes, bytes.count, &out)
        return out
    }
}

public struct TokenFileError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String

    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// Decides who a request is and whether it may do what it asks. Without a table (no tokens file) every request is
/// `Principal.anonymous`; the service then listens on loopback only. The table can be replaced while serving
/// (SIGHUP), and a request sees either the old table or the new one, never a mix.
public final class AccessControl: @unchecked Sendable {
    private let lock = NSLock()
    private var table: TokenTable?
    /// Called after every replacement of the table (what is open under an old token checks it again).
    private var watchers: [Int: @Sendable () -> Void] = [:]
    private var nextWatcher = 0

    public init(tokens: TokenTable?) {
        table = tokens
    }

    public var isEnabled: Bool { lock.withLock { table != nil } }

    public func replace(_ tokens: TokenTable) {
        let callbacks = lock.withLock { () -> [@Sendable () -> Void] in
            table = tokens
            return Array(watchers.values)
        }
        for callback in callbacks { callback() }
    }

    /// `callback` runs after each replacement of the table, until `unwatch`.
    func watch(_ callback: @escaping @Sendable () -> Void) -> Int {
        lock.withLock {
            nextWatcher += 1
            watchers[nextWatcher] = callback
            return nextWatcher
        }
    }

    func unwatch(_ id: Int) {
        _ = lock.withLock { watchers.removeValue(forKey: id) }
    }

    /// Whether a request carrying `request`'s credentials would still be let in with `role` now.
    func stillAllows(_ request: HTTPRequest, role: Role) -> Bool {
        (try? authorize(request, needs: role)) != nil
    }

    static let realm = "redis-cluster-manager"

    /// The request's principal if it may act with `role`; otherwise the 401 (no or unknown token) or 403 (too
    /// little role) to answer.
    func authorize(_ request: HTTPRequest, needs role: Role) throws(HTTPError) -> Principal {
        // Two credentials are one too many: which one a proxy, a cache or this service would honour is anyone's guess.
        guard request.headers.values("Authorization").count <= 1 else {
            throw HTTPError(400, "send one Authorization header, not \(request.headers.values("Authorization").count)")
        }
        guard let table = lock.withLock({ table }) else { return .anonymous }
        guard let header = request.headers["Authorization"] else {
            throw HTTPError(401, "this needs a token: send 'Authorization: Bearer TOKEN'",
                            headers: HTTPHeaders([("WWW-Authenticate", "Bearer realm=\"\(Self.realm)\"")]))
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              let principal = table.principal(for: parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw HTTPError(401, "the token is not valid",
                            headers: HTTPHeaders([("WWW-Authenticate", "Bearer realm=\"\(Self.realm)\", error=\"invalid_token\"")]))
        }
        guard principal.role >= role else {
            throw HTTPError(403, "token '\(principal.name)' has role \(principal.role.name); this needs \(role.name)")
        }
        return principal
    }
}
