import RESP

extension ClusterSession {
    /// `MIGRATE host port "" 0 timeout [REPLACE] [AUTH pw | AUTH2 user pw] KEYS k...`, carrying this cluster's
    /// credentials so the source can authenticate to the target. `timeout` defaults to the options' long one.
    func migrateCommand(_ keys: [[UInt8]], to endpoint: RedisEndpoint, options: MigrationOptions, replace: Bool,
                        timeoutMilliseconds: Int? = nil) -> [[UInt8]] {
        let timeout = timeoutMilliseconds ?? options.migrateTimeoutMilliseconds
        var arguments = ["MIGRATE", endpoint.host, "\(endpoint.port)", "", "0", "\(timeout)"]
        if replace { arguments.append("REPLACE") }
        if let password = access.credentials?.password {
            arguments += access.credentials?.username.map { ["AUTH2", $0, password] } ?? ["AUTH", password]
        }
        arguments.append("KEYS")
        return arguments.map { Array($0.utf8) } + keys
    }
}
