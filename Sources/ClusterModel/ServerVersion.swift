/// Which server a node runs, read from `INFO server`: Valkey reports `server_name:valkey` and `valkey_version`
/// (its `redis_version` stays at 7.2.4 for clients' sake); Redis reports only `redis_version`.
public struct ServerVersion: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public enum Product: String, Sendable, Codable {
        case redis
        case valkey
    }

    public var product: Product
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(product: Product, major: Int, minor: Int, patch: Int = 0) {
        self.product = product
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// The version as the server prints it, e.g. "9.1.2".
    public var version: String { "\(major).\(minor).\(patch)" }
    public var description: String { "\(product.rawValue) \(version)" }

    /// From the text of `INFO server` (or all of `INFO`); nil when it names no version.
    public static func parse(info: String) -> ServerVersion? {
        let fields = InfoFields.parse(info)
        if fields["server_name"] == "valkey" || fields["valkey_version"] != nil {
            return fields["valkey_version"].flatMap { numbers(Substring($0)) }.map {
                ServerVersion(product: .valkey, major: $0.0, minor: $0.1, patch: $0.2)
            }
        }
        return fields["redis_version"].flatMap { numbers(Substring($0)) }.map {
            ServerVersion(product: .redis, major: $0.0, minor: $0.1, patch: $0.2)
        }
    }

    private static func numbers(_ text: Substring) -> (Int, Int, Int)? {
        let parts = text.split(separator: ".").map { Int($0.prefix { $0.isNumber }) }
        guard parts.count >= 2, let major = parts[0], let minor = parts[1] else { return nil }
        return (major, minor, parts.count > 2 ? parts[2] ?? 0 : 0)
    }

    /// The server's own way to move slots with their keys in one step, if it has one: Valkey ≥ 9.0's
    /// `CLUSTER MIGRATESLOTS`, Redis ≥ 8.4's `CLUSTER MIGRATION`.
    public var atomicMigration: AtomicMigrationKind? {
        switch product {
        case .valkey: return major >= 9 ? .valkeyMigrateSlots : nil
        case .redis: return (major, minor) >= (8, 4) ? .redisClusterMigration : nil
        }
    }

    public static func < (lhs: ServerVersion, rhs: ServerVersion) -> Bool {
        (lhs.product.rawValue, lhs.major, lhs.minor, lhs.patch) < (rhs.product.rawValue, rhs.major, rhs.minor, rhs.patch)
    }
}

/// The two server-side slot migration protocols.
public enum AtomicMigrationKind: String, Sendable, Codable, CaseIterable {
    /// Valkey 9: `CLUSTER MIGRATESLOTS` sent to the source, `CLUSTER GETSLOTMIGRATIONS`, `CLUSTER CANCELSLOTMIGRATIONS`.
    case valkeyMigrateSlots = "valkey-migrateslots"
    /// Redis 8.4: `CLUSTER MIGRATION IMPORT|STATUS|CANCEL` sent to the destination, one task at a time.
    case redisClusterMigration = "redis-cluster-migration"

    /// The command that starts a migration, for events and errors.
    public var command: String {
        switch self {
        case .valkeyMigrateSlots: return "CLUSTER MIGRATESLOTS"
        case .redisClusterMigration: return "CLUSTER MIGRATION IMPORT"
        }
    }
}

/// Encoded as `{"product": "valkey", "version": "9.1.2"}`.
extension ServerVersion: Codable {
    private enum CodingKeys: String, CodingKey {
        case product, version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let product = try c.decode(Product.self, forKey: .product)
        let parts = try c.decode(String.self, forKey: .version).split(separator: ".").map { Int($0) ?? 0 }
        self.init(product: product, major: parts.first ?? 0, minor: parts.count > 1 ? parts[1] : 0,
                  patch: parts.count > 2 ? parts[2] : 0)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(product, forKey: .product)
        try c.encode(version, forKey: .version)
    }
}
