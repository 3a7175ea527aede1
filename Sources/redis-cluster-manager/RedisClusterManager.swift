import ArgumentParser

@main
struct RedisClusterManager: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-cluster-manager",
        abstract: "Manage Redis Cluster and Valkey Cluster over a REST API, running every change as a durable job.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}
