import RESP

extension ClusterSession {
    /// `MIGRATE host port "" 0 timeout [REPLACE] [AUTH pw | AUTH2 user pw] KEYS k...`, carrying this cluster's
    /// credentials so the source can authenticate to the target.
    func migrateCommand(_ keys: [[UInt8]], to endpoint: RedisEndpoint, options: MigrationOptions, replace: Bool) -> [[UInt8]] {
        var arguments = ["MIGRATE", endpoint.host, "\(endpoint.port)", "", "0", "\(options.migrateTimeoutMilliseconds)"]
        if replace { arguments.append("REPLACE") }
        if let password = access.credentials?.password {
            arguments += access.credentials?.username.map { ["AUTH2", $0, password] } ?? ["AUTH", password]
        }
        arguments.append("KEYS")
        return arguments.map { Array($0.utf8) } + keys
    }
}
