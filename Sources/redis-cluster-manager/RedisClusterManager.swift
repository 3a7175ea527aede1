import ArgumentParser
import Foundation

@main
struct RedisClusterManager: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-cluster-manager",
        abstract: "Manage Redis Cluster and Valkey Cluster over a REST API, running every change as a durable job.",
        discussion: """
            `serve` runs the service. Every other command is a client of a running service: --server URL (env
            RCM_SERVER, default http://127.0.0.1:8080) and --token (env RCM_TOKEN). Flags are named after the API's
            JSON fields. \(ExitCodes.help)
            """,
        subcommands: [Serve.self, Clusters.self, Register.self, Topology.self, Info.self, Create.self, AddNode.self, Reshard.self,
                      Rebalance.self, DelNode.self, Fix.self, Failover.self, ReplaceNode.self, SetTimeout.self, Call.self, Restore.self,
                      Import.self, Backup.self, Backups.self, Jobs.self, Job.self, Cancel.self],
        defaultSubcommand: Serve.self
    )

    /// As ArgumentParser's, except that bad usage exits 2 (not 64), as the CLI's documented exit codes say.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
