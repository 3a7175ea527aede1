import ArgumentParser
import Foundation

/// What every job command shares: the cluster, waiting, dry runs, and where the service is.
struct JobOptions: ParsableArguments {
    @Argument(help: "The registered cluster's id.")
    var cluster: String

    @Flag(help: "Follow the job's live events until it ends; the exit code says how it ended.")
    var wait = false

    @Flag(help: "Show the plan; change nothing.")
    var dryRun = false

    @Option(help: "Sent as Idempotency-Key: a retry with the same key and the same flags within 24 h answers the first job instead of starting another. Env: RCM_IDEMPOTENCY_KEY.")
    var idempotencyKey: String?

    @Option(help: ArgumentHelp("Sent as If-Match: the topology etag a --dry-run printed. A cluster that changed since is refused "
                               + "(exit 2), now and when the job starts.", valueName: "etag"))
    var ifMatch: String?

    @Flag(help: "Run the job even when a preflight check fails (the checks are still made and recorded).")
    var force = false

    @Option(help: "The size (bytes, at least 1024) from which a key in the slots to move counts as big for the big_keys check.")
    var bigKeyBytes: Int?

    @OptionGroup var client: ClientOptions

    /// Submits `kind` with `body`; prints the plan (dry run), the queued job, or (with --wait) follows it to its end.
    func submit(_ kind: String, _ body: [String: Any]) throws {
        try runCLI {
            let service = try client.client()
            var body = body
            if dryRun { body["dry_run"] = true }
            if force { body["force"] = true }
            if let bigKeyBytes { body["big_key_bytes"] = bigKeyBytes }
            var headers: [(String, String)] = []
            if let key = idempotencyKey ?? ProcessInfo.processInfo.environment["RCM_IDEMPOTENCY_KEY"].flatMap({ $0.isEmpty ? nil : $0 }) {
                headers.append(("Idempotency-Key", key))
            }
            if let ifMatch { headers.append(("If-Match", ifMatch)) }
            let response = try client.expectSuccess(try service.post("/clusters/\(Self.escape(cluster))/\(kind)", json: body,
                                                                     headers: headers))
            if dryRun {
                if client.json { client.printJSON(response) } else { print(DryRunReport.render(response, kind: kind, cluster: cluster)) }
                return
            }
            let job = response.object
            guard let id = job["id"] as? Int else { throw CLIError.serverError(status: response.status, detail: "no job id in the answer") }
            // 200 instead of 202: the job an earlier request with the same Idempotency-Key made.
            let how = response.status == 200 ? "already submitted" : "queued"
            guard wait else {
                if client.json { client.printJSON(response) } else { print("job \(id) \(how): \(kind) on \(cluster) (redis-cluster-manager job \(id) --follow)") }
                return
            }
            if !client.json { print("job \(id) \(how): \(kind) on \(cluster)") }
            let final = try JobFollower(client: service, quiet: client.json).follow(jobId: id)
            if client.json {
                printObject(final)
            } else {
                print(JobOutcome.summary(final))
                if let verification = JobOutcome.verification(final) { print(verification) }
            }
            try JobOutcome.check(final)
        }
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }
}

func printObject(_ object: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

/// How keys travel, for the commands that move slots.
struct MoveFlags: ParsableArguments {
    @Option(help: "How keys travel: auto, atomic or keys.")
    var method: String?

    @Option(help: "Throttle for the key-by-key path (keys per second).")
    var maxKeysPerSecond: Int?

    func add(to body: inout [String: Any]) {
        if let method { body["method"] = method }
        if let maxKeysPerSecond { body["max_keys_per_second"] = maxKeysPerSecond }
    }
}

/// `0-1364,5461` → [[0,1364],[5461,5461]].
func parseSlotRanges(_ text: String) throws -> [[Int]] {
    try text.split(separator: ",").map { part in
        let bounds = part.split(separator: "-", maxSplits: 1).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard let low = bounds.first ?? nil, let high = bounds.count == 2 ? bounds[1] : low else {
            throw ValidationError("--slot-ranges must look like 0-1364,5461-6826")
        }
        return [low, high]
    }
}

struct Reshard: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move slots to a master.", discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The master that receives the slots (id or host:port).") var to: String
    @Option(help: "How many slots (taken from every other master, or from --from).") var slots: Int?
    @Option(help: "Masters to take the slots from (repeat, or comma-separated).") var from: [String] = []
    @Option(help: "Exactly these slots, e.g. 0-99,200.") var slotRanges: String?
    @Flag(help: "Overwrite keys that exist on the target (BUSYKEY).") var replace = false
    @OptionGroup var move: MoveFlags

    func run() throws {
        var body: [String: Any] = ["to": to]
        if let slots { body["slots"] = slots }
        let sources = from.flatMap { $0.split(separator: ",").map(String.init) }
        if !sources.isEmpty { body["from"] = sources }
        if let slotRanges { body["slot_ranges"] = try parseSlotRanges(slotRanges) }
        if replace { body["replace"] = true }
        move.add(to: &body)
        try job.submit("reshard", body)
    }
}

struct AddNode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-node", abstract: "Add an empty node as a master or a replica.",
                                                    discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The new node, host:port.") var address: String
    @Option(help: "master (default) or replica.") var role: String?
    @Option(help: "For a replica: its master (id or host:port).") var master: String?

    func run() throws {
        var body: [String: Any] = ["address": address]
        if let role { body["role"] = role }
        if let master { body["master"] = master }
        try job.submit("add-node", body)
    }
}

struct DelNode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "del-node", abstract: "Drain a node's slots and remove it.",
                                                    discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The node to remove (id or host:port).") var node: String
    @Flag(help: "Overwrite keys that exist on the receiving masters.") var replace = false
    @OptionGroup var move: MoveFlags

    func run() throws {
        var body: [String: Any] = ["node": node]
        if replace { body["replace"] = true }
        move.add(to: &body)
        try job.submit("del-node", body)
    }
}

struct Rebalance: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Even out slots over the masters, by weight.", discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "NODE=WEIGHT (repeat, or comma-separated).") var weights: [String] = []
    @Option(help: "Leave masters within this percent of their share alone (default 2).") var thresholdPercent: Double?
    @Flag(help: "Give slots to masters that have none.") var useEmptyMasters = false
    @Option(help: "slots (default), keys, cpu or memory: the measure to even out.") var balanceBy: String?
    @Flag(help: "Overwrite keys that exist on the receiving masters.") var replace = false
    @OptionGroup var move: MoveFlags

    func run() throws {
        var body: [String: Any] = [:]
        var table: [String: Double] = [:]
        for pair in weights.flatMap({ $0.split(separator: ",") }) {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let weight = Double(parts[1]) else { throw ValidationError("--weights takes NODE=WEIGHT") }
            table[String(parts[0])] = weight
        }
        if !table.isEmpty { body["weights"] = table }
        if let thresholdPercent { body["threshold_percent"] = thresholdPercent }
        if useEmptyMasters { body["use_empty_masters"] = true }
        if let balanceBy { body["balance_by"] = balanceBy }
        if replace { body["replace"] = true }
        move.add(to: &body)
        try job.submit("rebalance", body)
    }
}

struct Fix: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cover uncovered slots and close open ones.", discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Flag(help: "Overwrite keys that exist where open slots are finished.") var replace = false
    @Flag(help: "Cover the slots of a shard with no live node with empty ones (their keys are lost).") var acceptDataLoss = false

    func run() throws {
        var body: [String: Any] = [:]
        if replace { body["replace"] = true }
        if acceptDataLoss { body["accept_data_loss"] = true }
        try job.submit("fix", body)
    }
}

struct Failover: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Promote a replica over its master.", discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The replica to promote (id or host:port).") var replica: String
    @Option(help: "default, force or takeover.") var mode: String?
    @Option(help: "How long (0-3600 s, default 60) the default mode waits for the replica to be in sync.") var waitSeconds: Int?
    @Flag(help: "Let force or takeover promote a replica that is behind a live master (the gap is recorded as bytes at risk).")
    var acceptDataLoss = false

    func run() throws {
        var body: [String: Any] = ["replica": replica]
        if let mode { body["mode"] = mode }
        if let waitSeconds { body["wait_seconds"] = waitSeconds }
        if acceptDataLoss { body["accept_data_loss"] = true }
        try job.submit("failover", body)
    }
}

struct ReplaceNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replace-node",
        abstract: "Replace a node by an empty one: it joins the old one's shard, syncs, takes over, and the old one is removed.",
        discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The node to replace (id or host:port).") var node: String
    @Option(name: .customLong("with"), help: "The empty node that takes its place, host:port.") var replacement: String
    @Option(help: "How long (0-3600 s, default 60) the takeover of a master waits for the new node to be in sync.") var waitSeconds: Int?

    func run() throws {
        var body: [String: Any] = ["node": node, "with": replacement]
        if let waitSeconds { body["wait_seconds"] = waitSeconds }
        try job.submit("replace-node", body)
    }
}

struct SetTimeout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-timeout", abstract: "Set cluster-node-timeout on every node.",
                                                    discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "Milliseconds.") var nodeTimeoutMs: Int

    func run() throws {
        try job.submit("set-timeout", ["node_timeout_ms": nodeTimeoutMs])
    }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Form a cluster from the registered empty nodes.", discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "Replicas per master.") var replicas: Int?

    func run() throws {
        var body: [String: Any] = [:]
        if let replicas { body["replicas"] = replicas }
        try job.submit("create", body)
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one command on every node (admin role), as redis-cli --cluster call; prints each node's reply.",
        discussion: "Commands that would break the cluster or lose data are refused unless --force (the same \"force\" field that "
            + "overrides failing preflight checks). " + ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "all (default), masters or replicas.") var nodes: String?
    @Argument(parsing: .postTerminator, help: "The command, after --, e.g. -- CONFIG SET maxmemory-policy allkeys-lru")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. call prod -- CONFIG GET maxmemory") }
    }

    func run() throws {
        var body: [String: Any] = ["command": command]
        if let nodes { body["nodes"] = nodes }
        try job.submit("call", body)
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move slots back to the layout a snapshot shows.", discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The snapshot's id (e.g. a job's snapshot_before).") var snapshot: Int
    @Flag(help: "Overwrite keys that exist on the receiving masters.") var replace = false
    @OptionGroup var move: MoveFlags

    func run() throws {
        var body: [String: Any] = ["snapshot": snapshot]
        if replace { body["replace"] = true }
        move.add(to: &body)
        try job.submit("restore", body)
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move (or copy) a standalone Redis's keys into the cluster.",
                                                    discussion: ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "The standalone Redis, host:port.") var from: String
    @Option(help: "Its ACL user name.") var username: String?
    @Option(help: "File holding its password (first line). Env: RCM_SOURCE_PASSWORD.") var passwordFile: String?
    @Flag(help: "Keep the source's keys.") var copy = false
    @Flag(help: "Overwrite keys that exist in the cluster with other values.") var replace = false
    @Option(help: "Throttle (keys per second).") var maxKeysPerSecond: Int?

    func run() throws {
        try runCLI { try submit() }
    }

    private func submit() throws {
        var body: [String: Any] = ["from": from]
        if let username { body["username"] = username }
        if let password = try password(file: passwordFile, variable: "RCM_SOURCE_PASSWORD") { body["password"] = password }
        if copy { body["copy"] = true }
        if replace { body["replace"] = true }
        if let maxKeysPerSecond { body["max_keys_per_second"] = maxKeysPerSecond }
        try job.submit("import", body)
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up every shard as an RDB file on the service's host (its --backup-dir), with a manifest.",
        discussion: "Each shard is read from one of its replicas in sync (or its master) over the replication protocol, several at once. "
            + "List them with `backups`. " + ExitCodes.help)
    @OptionGroup var job: JobOptions
    @Option(help: "Where to read each shard: replica (one in sync, else the master) or master.") var source: String?
    @Option(help: "At most this many bytes per second for the whole backup (at least 1024).") var maxBytesPerSecond: Int?
    @Option(help: "Shards fetched at once, 1-16 (default 4; 1 goes shard by shard, as redis-cli does).") var parallel: Int?
    @Option(help: "disk (default: each node saves its snapshot to its own disk and sends it at once, as redis-cli --cluster backup) or diskless (streamed from the fork after the node's repl-diskless-sync-delay).")
    var transfer: String?

    func run() throws {
        var body: [String: Any] = [:]
        if let source { body["source"] = source }
        if let parallel { body["parallel"] = parallel }
        if let transfer { body["transfer"] = transfer }
        if let maxBytesPerSecond { body["max_bytes_per_second"] = maxBytesPerSecond }
        try job.submit("backup", body)
    }
}
