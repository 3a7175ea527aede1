import RESP

/// Checks, before a cluster is registered, that a seed answers, accepts the TLS and the credentials, and runs in
/// cluster mode.
public enum SeedValidator {
    /// Returns the first seed that passed; throws with every seed's reason when none did.
    @discardableResult
    public static func validate(_ access: ClusterAccess) throws(ClusterOpsError) -> RedisEndpoint {
        var reasons: [String] = []
        for seed in access.seeds {
            do {
                let connection = try access.checkout(seed)
                defer { access.checkin(connection) }
                _ = try connection.command(["CLUSTER", "INFO"])
                return seed
            } catch .wrongPass(let message) {
                throw .authenticationFailed("\(seed): \(message)")
            } catch .tlsFailed(let endpoint, let reason) {
                // The same certificates serve every node: one refusal says the configuration is wrong.
                throw .tlsFailed("\(endpoint): \(reason)")
            } catch .noAuth {
                throw .authenticationFailed("\(seed) requires a password and none was given")
            } catch .server(_, let message) where message.contains("without any password configured") {
                throw .authenticationFailed("\(seed) has no password configured but one was given")
            } catch .server(_, let message) where message.lowercased().contains("cluster support disabled") {
                throw .notClusterEnabled(seed.description)
            } catch {
                reasons.append("\(seed): \(error)")
            }
        }
        throw .noReachableSeed(reasons)
    }
}
