import ClusterModel
import ClusterOps

/// What a plan will do to the cluster, as the checks before it need to know: the slots it moves and how, the nodes
/// that receive a full copy of a master's data, the commands it sends where, the nodes it needs, and whether it is
/// meant for a broken cluster (then only what it needs itself is checked, so recovery is never blocked by the
/// damage it repairs).
public struct PlanEffects: Sendable {
    public var moves: [PlannedMove] = []
    public var method: MigrationMethod = .keys
    /// New replicas (address) and the master (address) whose whole data each receives.
    public var copies: [(replica: String, master: String)] = []
    /// Commands the plan sends, by node address: checked with ACL DRYRUN for the service's user.
    public var commands: [(node: String, command: [String])] = []
    /// Addresses of nodes the job needs to answer.
    public var needs: [String] = []
    /// Ids of masters whose replicas the job relies on or changes.
    public var masters: [String] = []
    /// Ids of replicas the job takes away from their masters.
    public var removedReplicas: [String] = []
    /// A job meant for a broken cluster (fix, failover of a dead master, removing a dead node).
    public var recovery = false
    /// Checks only this kind can make (a replacement's server against the replicas that will follow it).
    public var kindChecks: [PreflightCheck] = []

    public init() {}

    /// The commands a key-by-key or atomic slot move sends, on its sources, targets and every master.
    static func moveCommands(_ moves: [PlannedMove], method: MigrationMethod, masters: [String]) -> [(node: String, command: [String])] {
        var commands: [(node: String, command: [String])] = []
        let anyId = String(repeating: "0", count: 40)
        for move in moves {
            let slot = "\(move.slots.slots.first ?? 0)"
            switch method {
            case .keys:
                commands.append((move.fromAddress, ["CLUSTER", "SETSLOT", slot, "MIGRATING", anyId]))
                commands.append((move.fromAddress, ["CLUSTER", "GETKEYSINSLOT", slot, "10"]))
                commands.append((move.fromAddress, ["MIGRATE", "127.0.0.1", "6379", "", "0", "5000", "REPLACE", "KEYS", "k"]))
                commands.append((move.toAddress, ["CLUSTER", "SETSLOT", slot, "IMPORTING", anyId]))
            case .atomic(.valkeyMigrateSlots):
                commands.append((move.fromAddress, ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", slot, slot, "NODE", anyId]))
                commands.append((move.toAddress, ["CLUSTER", "GETSLOTMIGRATIONS"]))
            case .atomic(.redisClusterMigration):
                commands.append((move.toAddress, ["CLUSTER", "MIGRATION", "IMPORT", slot, slot]))
            }
            commands.append((move.fromAddress, ["CLUSTER", "COUNTKEYSINSLOT", slot]))
            commands.append((move.fromAddress, ["MEMORY", "USAGE", "k"]))
        }
        if !moves.isEmpty {
            for master in masters { commands.append((master, ["CLUSTER", "SETSLOT", "0", "NODE", anyId])) }
        }
        return commands
    }
}
