import ClusterModel
import ClusterOps
import RESP

/// `POST /clusters/{id}/call {"command":[...], "nodes":"all"|"masters"|"replicas", "force"?}`: one command on every
/// chosen node, as `redis-cli --cluster call` does it, each node's reply in the job's `result`. Admin only. A command
/// that would break the cluster or lose data is refused (422, naming the job kind that does it safely) unless
/// `"force": true`. The command is sent once per node and never again after a lost reply.
public enum CallJob: JobKind {
    public enum Nodes: String, Codable, Sendable {
        case all, masters, replicas
    }

    public struct Params: Codable, Sendable, Equatable {
        public var command: [String]
        public var nodes: Nodes
        public var force: Bool
    }

    public struct Plan: JobPlanContent {
        public var summary: String
        public var slotsTotal: Int { 0 }
        public var nodes: [String]
    }

    public static let name = "call"
    public static let fields: Set<String> = ["command", "nodes", "force"]
    public static var needsAdmin: Bool { true }

    public static func parse(_ request: RequestFields) throws(RequestFieldError) -> Params {
        // Bounded so the largest request (every character escaped in JSON) stays under the 1 MiB body limit.
        guard let command = try request.stringArray("command"), !command.isEmpty, command.count <= 32 else {
            throw RequestFieldError("field 'command' must be a non-empty array of at most 32 strings, e.g. [\"CONFIG\",\"GET\",\"maxmemory\"]")
        }
        guard command.allSatisfy({ $0.unicodeScalars.count <= 4096 }), !command[0].isEmpty else {
            throw RequestFieldError("field 'command' must name a command, and each argument be at most 4096 characters")
        }
        guard let nodes = Nodes(rawValue: try request.string("nodes") ?? "all") else {
            throw RequestFieldError("field 'nodes' must be \"all\", \"masters\" or \"replicas\"")
        }
        return Params(command: command, nodes: nodes, force: try request.bool("force") ?? false)
    }

    /// Refused at submission, whether or not the cluster is busy, unless `force`.
    public static func validate(_ params: Params) throws(ClusterOpsError) {
        guard !params.force, let danger = UnsafeCommand.match(params.command) else { return }
        throw .unsafeCommand("\(danger.name) would \(danger.harm)"
            + (danger.safeKind.map { "; the '\($0)' job does it safely" } ?? "")
            + "; send \"force\": true to run it anyway")
    }

    public static func plan(_ params: Params, on cluster: PlanningInput) throws(ClusterOpsError) -> Plan {
        try validate(params)
        let nodes = cluster.topology.nodes.filter { node in
            node.reachable && !node.flags.contains("fail") && {
                switch params.nodes {
                case .all: true
                case .masters: node.isMaster
                case .replicas: !node.isMaster
                }
            }()
        }.map(\.address)
        guard !nodes.isEmpty else { throw .impossible("no reachable \(params.nodes == .all ? "node" : String(params.nodes.rawValue.dropLast())) to call") }
        return Plan(summary: "\(params.command[0].uppercased()) on \(nodes.count) \(params.nodes == .all ? "nodes" : params.nodes.rawValue)",
                    nodes: nodes)
    }

    public static func execute(_ plan: Plan, params: Params, in context: JobContext) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        context.observer.step("calling \(plan.nodes.count) nodes")
        var replies: [String: JSONValue] = [:]
        var failed: [String] = []
        for node in plan.nodes {
            do {
                let reply = try context.session.call(node, params.command, idempotent: false)
                // Stored and shown without the secrets a reply can carry (CONFIG GET requirepass, ACL hashes).
                replies[node] = SecretReplies.redacted(JSONValue(reply), command: params.command)
                context.observer.event("\(params.command[0].uppercased()) answered", node: node)
            } catch {
                let text: String
                if case .redis(_, let redisError) = error { text = "\(redisError)" } else { text = error.description }
                replies[node] = .object(["error": .string(text)])
                failed.append(node)
                context.observer.event("\(params.command[0].uppercased()) failed: \(text)", node: node)
            }
        }
        context.report(.object(["replies": .object(replies)]))
        guard failed.isEmpty else {
            throw .failed("\(failed.count) of \(plan.nodes.count) nodes did not answer the command successfully: "
                + failed.joined(separator: ", ") + " (each node's reply is in the job's result)")
        }
        return .completed
    }
}

extension JSONValue {
    /// A reply as JSON: strings, integers, arrays and null as they are, an error reply as {"error": text}.
    init(_ reply: RESPValue) {
        switch reply {
        case .simpleString(let text): self = .string(text)
        case .bulkString(let bytes): self = .string(String(decoding: bytes, as: UTF8.self))
        case .integer(let value): self = .int(value)
        case .null: self = .null
        case .error(let text): self = .object(["error": .string(text)])
        case .array(let items): self = .array(items.map(JSONValue.init))
        }
    }
}

/// Commands `call` refuses without `force`: what they would do, and the job kind that does it safely.
enum UnsafeCommand {
    struct Danger {
        var name: String
        var harm: String
        var safeKind: String?
    }

    static func match(_ command: [String]) -> Danger? {
        let name = command[0].uppercased()
        let sub = command.count > 1 ? command[1].uppercased() : ""
        switch name {
        case "FLUSHALL", "FLUSHDB": return Danger(name: name, harm: "delete keys", safeKind: nil)
        case "SHUTDOWN": return Danger(name: name, harm: "stop nodes", safeKind: "del-node")
        case "DEBUG": return Danger(name: name, harm: "crash, block or corrupt nodes", safeKind: nil)
        case "MIGRATE": return Danger(name: name, harm: "move keys outside the slot protocol", safeKind: "reshard")
        case "SWAPDB": return Danger(name: name, harm: "replace a database's keys", safeKind: nil)
        case "REPLICAOF", "SLAVEOF": return Danger(name: name, harm: "turn nodes into replicas outside the cluster's control", safeKind: "add-node")
        case "FAILOVER": return Danger(name: name, harm: "switch masters", safeKind: "failover")
        case "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "SYNC", "PSYNC":
            return Danger(name: name, harm: "hold the connection open and never answer", safeKind: nil)
        case "CONFIG" where sub == "SET":
            let parameters = stride(from: 2, to: command.count, by: 2).map { command[$0].lowercased() }
            if parameters.contains("cluster-node-timeout") {
                return Danger(name: "CONFIG SET cluster-node-timeout", harm: "change failure detection on some nodes only", safeKind: "set-timeout")
            }
            if let parameter = parameters.first(where: { ["requirepass", "masterauth", "masteruser", "port", "tls-port", "bind", "cluster-enabled", "cluster-config-file", "dir"].contains($0) }) {
                return Danger(name: "CONFIG SET \(parameter)", harm: "cut the cluster or the service off from its nodes", safeKind: nil)
            }
            return nil
        case "CLUSTER":
            switch sub {
            case "RESET": return Danger(name: "CLUSTER RESET", harm: "drop a node's slots and peers", safeKind: "del-node")
            case "FORGET": return Danger(name: "CLUSTER FORGET", harm: "split the cluster's view of its members", safeKind: "del-node")
            case "FAILOVER": return Danger(name: "CLUSTER FAILOVER", harm: "switch masters", safeKind: "failover")
            case "MEET": return Danger(name: "CLUSTER MEET", harm: "join nodes unchecked", safeKind: "add-node")
            case "REPLICATE": return Danger(name: "CLUSTER REPLICATE", harm: "move replicas unchecked", safeKind: "add-node")
            case "ADDSLOTS", "ADDSLOTSRANGE", "DELSLOTS", "DELSLOTSRANGE", "FLUSHSLOTS", "SETSLOT":
                return Danger(name: "CLUSTER \(sub)", harm: "change slot ownership outside a job", safeKind: sub.hasPrefix("ADD") ? "fix" : "reshard")
            case "MIGRATESLOTS", "MIGRATION", "CANCELSLOTMIGRATIONS":
                return Danger(name: "CLUSTER \(sub)", harm: "move slots outside a job", safeKind: "reshard")
            case "BUMPEPOCH", "SET-CONFIG-EPOCH":
                return Danger(name: "CLUSTER \(sub)", harm: "change the epochs that settle slot conflicts", safeKind: "fix")
            case "SAVECONFIG", "INFO", "NODES", "SLOTS", "SHARDS", "MYID", "COUNTKEYSINSLOT", "GETKEYSINSLOT", "KEYSLOT",
                 "LINKS", "COUNT-FAILURE-REPORTS", "MYSHARDID", "SLOT-STATS", "GETSLOTMIGRATIONS":
                return nil
            default: return Danger(name: "CLUSTER \(sub)", harm: "change the cluster in ways no job checks", safeKind: nil)
            }
        default: return nil
        }
    }
}

extension CallJob {
    /// The command itself is checked with ACL DRYRUN on every chosen node; an admin's tool for any state of the
    /// cluster, so only its nodes must answer.
    public static func effects(_ plan: Plan, params: Params, on topology: ClusterTopology) -> PlanEffects {
        var effects = PlanEffects()
        effects.recovery = true
        effects.needs = plan.nodes
        effects.commands = plan.nodes.map { ($0, params.command) }
        return effects
    }
}

/// What `call` results never keep: the values of secret settings in `CONFIG GET` replies (`requirepass`,
/// `masterauth`, `masteruser`, `tls-*-pass`, any setting whose name holds "pass") and password hashes in `ACL`
/// replies (`ACL LIST`'s `#<hash>` and `>password` rules, `ACL GETUSER`'s passwords). Each becomes `<redacted>`
/// before the result is stored, so no role, log or database file sees it.
enum SecretReplies {
    static let mark = "<redacted>"

    static func redacted(_ reply: JSONValue, command: [String]) -> JSONValue {
        let name = command[0].uppercased()
        let sub = command.count > 1 ? command[1].uppercased() : ""
        switch (name, sub) {
        case ("CONFIG", "GET"): return configValues(reply)
        case ("ACL", "LIST"): return aclRules(reply)
        case ("ACL", "GETUSER"): return aclUser(reply)
        default: return reply
        }
    }

    static func isSecretSetting(_ name: String) -> Bool {
        let name = name.lowercased()
        return name.contains("pass") || name == "masterauth" || name == "masteruser"
    }

    /// `[name, value, name, value, ...]`, or a map.
    private static func configValues(_ reply: JSONValue) -> JSONValue {
        switch reply {
        case .array(let items) where items.count % 2 == 0:
            var out = items
            for index in stride(from: 0, to: items.count, by: 2) {
                if case .string(let setting) = items[index], isSecretSetting(setting) { out[index + 1] = .string(mark) }
            }
            return .array(out)
        case .object(let fields):
            return .object(fields.reduce(into: [:]) { result, field in
                result[field.key] = isSecretSetting(field.key) ? .string(mark) : field.value
            })
        default:
            return reply
        }
    }

    /// Each user's rule line: `#<sha256>` and `>password` words replaced.
    private static func aclRules(_ reply: JSONValue) -> JSONValue {
        guard case .array(let lines) = reply else { return reply }
        return .array(lines.map { line in
            guard case .string(let text) = line else { return line }
            return .string(text.split(separator: " ", omittingEmptySubsequences: false).map { word in
                word.hasPrefix("#") || word.hasPrefix(">") || word.hasPrefix("<") ? "\(word.first ?? "#")\(mark)" : String(word)
            }.joined(separator: " "))
        })
    }

    /// `[..., "passwords", [hash, ...], ...]`: the hashes replaced.
    private static func aclUser(_ reply: JSONValue) -> JSONValue {
        guard case .array(var items) = reply else { return reply }
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if case .string("passwords") = items[index], case .array(let hashes) = items[index + 1] {
                items[index + 1] = .array(hashes.map { _ in .string(mark) })
            }
        }
        return .array(items)
    }
}
