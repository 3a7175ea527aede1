import ClusterModel
import ClusterOps
import Foundation

/// The checks every job makes before it changes anything, against the cluster as it is: health, replication,
/// memory headroom of every node that receives keys, big keys, permissions (ACL DRYRUN) and the time it will take.
/// Each check reads what it needs and says what it found; none changes anything.
struct Preflight {
    /// Above this share of its limit (maxmemory, else system memory) a node that receives keys fails the check.
    static let memoryFailShare = 0.9
    static let memoryWarnShare = 0.75
    /// Rates used for the time estimate before the cluster has a measured one (keys per second).
    static let defaultKeysRate = 20_000.0
    static let defaultAtomicRate = 100_000.0
    /// Bytes per second assumed for a replica's first sync.
    static let defaultSyncBytesRate = 100_000_000.0

    let session: ClusterSession
    let topology: ClusterTopology
    let bigKeyBytes: Int64
    /// The cluster's last measured rate (keys per second) for a method name ("keys", "atomic").
    let measuredRate: (String) -> Double?

    func run(_ effects: PlanEffects) -> [PreflightCheck] {
        var checks = [health(effects)]
        if effects.recovery {
            checks.append(permissions(effects))
            return checks
        }
        let samples = sampleMoves(effects)
        checks.append(replication(effects))
        checks.append(memory(effects, samples: samples))
        if !effects.moves.isEmpty { checks.append(bigKeys(effects, samples: samples)) }
        checks.append(permissions(effects))
        checks.append(time(effects, samples: samples))
        return checks + effects.kindChecks
    }

    // MARK: - Health

    private func health(_ effects: PlanEffects) -> PreflightCheck {
        var problems: [String] = []
        if !topology.nodes.contains(where: \.reachable) {
            problems.append("no node of the cluster answers: \(topology.nodes.compactMap(\.error).first ?? "no seed replied")")
        }
        for address in Set(effects.needs).sorted() {
            guard let node = topology.nodes.first(where: { $0.isNamed(address) }) else { continue }
            if !node.reachable { problems.append("\(address) does not answer: \(node.error ?? "no reply")") }
        }
        if !effects.recovery {
            for node in topology.nodes where node.reachable && node.clusterState != nil && node.clusterState != "ok" {
                problems.append("\(node.address) reports cluster_state:\(node.clusterState ?? "?")")
            }
            for node in topology.nodes where node.flags.contains("fail") || (!node.reachable && !effects.needs.contains(where: node.isNamed)) {
                problems.append("\(node.address) is \(node.flags.contains("fail") ? "failing" : "unreachable")")
            }
            for node in topology.nodes where node.migrating != nil || node.importing != nil {
                let open = (node.migrating?.count ?? 0) + (node.importing?.count ?? 0)
                problems.append("\(node.address) has \(open) open slot\(open == 1 ? "" : "s")")
            }
        }
        let figures: [String: JSONValue] = ["nodes": .int(Int64(topology.nodes.count)),
                                            "reachable": .int(Int64(topology.nodes.filter(\.reachable).count))]
        guard problems.isEmpty else {
            let action = effects.recovery ? "bring the nodes the job needs back first"
                : "run fix for open slots, bring failing nodes back or remove them (del-node), then try again"
            return PreflightCheck("health", .fail, Array(Set(problems)).sorted().joined(separator: "; "), figures: figures, action: action)
        }
        let scope = effects.recovery ? "every node the job needs answers" : "every node answers, cluster_state:ok, no failing node, no open slot"
        return PreflightCheck("health", .ok, scope, figures: figures)
    }

    // MARK: - Replication

    private func replication(_ effects: PlanEffects) -> PreflightCheck {
        var masterIds = Set(effects.masters)
        for move in effects.moves { masterIds.formUnion([move.from, move.to]) }
        var lagging: [String] = []
        var checked = 0
        for id in masterIds.sorted() {
            guard let master = topology.node(id: id), master.reachable else { continue }
            for replicaId in master.replicas {
                guard let replica = topology.node(id: replicaId), replica.reachable, !replica.flags.contains("fail") else { continue }
                checked += 1
                if let state = try? session.syncState(replica: replica.address, master: master.address),
                   !state.0.isInSync {
                    lagging.append("\(replica.address) (replica of \(master.address)) is \(state.0)")
                }
            }
        }
        let removed = Set(effects.removedReplicas)
        var orphaned: [String] = []
        for id in Set(effects.masters).union(topology.nodes.filter { removed.contains($0.id) }.compactMap(\.masterId)).sorted() {
            guard let master = topology.node(id: id), master.isMaster, !master.replicas.isEmpty else { continue }
            let left = master.replicas.filter { !removed.contains($0) }
            if left.isEmpty { orphaned.append(master.address) }
        }
        let figures: [String: JSONValue] = ["replicas_checked": .int(Int64(checked)), "lagging": .int(Int64(lagging.count)),
                                            "masters_left_without_replica": .array(orphaned.map(JSONValue.string))]
        if !lagging.isEmpty || !orphaned.isEmpty {
            var parts = lagging
            if !orphaned.isEmpty { parts.append("after the job \(orphaned.joined(separator: ", ")) would have no replica") }
            return PreflightCheck("replication", .warn, parts.joined(separator: "; "), figures: figures,
                                  action: "wait for replicas to catch up; add a replica (add-node role replica) to masters left without one")
        }
        return PreflightCheck("replication", .ok, "\(checked) replica\(checked == 1 ? "" : "s") of the masters involved in sync", figures: figures)
    }

    // MARK: - Memory

    /// Each move's source measured once per move (`from`→`to` key).
    private func sampleMoves(_ effects: PlanEffects) -> (samples: [Int: SlotSampler.Sample], errors: [String]) {
        var samples: [Int: SlotSampler.Sample] = [:]
        var errors: [String] = []
        let sampler = SlotSampler(session: session, bigKeyBytes: bigKeyBytes)
        for (index, move) in effects.moves.enumerated() {
            do {
                samples[index] = try sampler.sample(move.fromAddress, slots: move.slots)
            } catch {
                errors.append("\(move.fromAddress): \(error)")
            }
        }
        return (samples, errors)
    }

    private func memory(_ effects: PlanEffects, samples: (samples: [Int: SlotSampler.Sample], errors: [String])) -> PreflightCheck {
        // Bytes each receiving node gets: a move's target and the target's replicas; a new replica its master's data.
        var incoming: [String: Int64] = [:]
        var sources: [String: Set<String>] = [:]
        for (index, move) in effects.moves.enumerated() {
            let bytes = samples.samples[index]?.bytes ?? 0
            var receivers = [move.toAddress]
            if let target = topology.node(id: move.to) {
                receivers += target.replicas.compactMap { topology.node(id: $0)?.address }
            }
            for receiver in receivers {
                incoming[receiver, default: 0] += bytes
                sources[receiver, default: []].insert("slots from \(move.fromAddress)")
            }
        }
        var unreadable = samples.errors
        for copy in effects.copies {
            do {
                let dataset = try session.memory(copy.master).usedMemory
                incoming[copy.replica, default: 0] += dataset
                sources[copy.replica, default: []].insert("a full copy of \(copy.master)")
            } catch {
                unreadable.append("\(copy.master): \(error)")
            }
        }
        var figures: [String: JSONValue] = [:]
        var fails: [String] = []
        var warns: [String] = []
        for (address, bytes) in incoming.sorted(by: { $0.key < $1.key }) where bytes > 0 {
            let info: MemoryInfo
            do {
                info = try session.memory(address)
            } catch {
                unreadable.append("\(address): \(error)")
                continue
            }
            let after = info.usedMemory + bytes
            figures[address] = .object(["used_bytes": .int(info.usedMemory), "incoming_bytes": .int(bytes),
                                        "after_bytes": .int(after), "limit_bytes": .int(info.limit),
                                        "limit": .string(info.limitName)])
            guard info.limit > 0 else { continue }
            let share = Double(after) / Double(info.limit)
            let text = "\(address) would hold \(after) bytes (\(info.usedMemory) now + \(bytes) of \((sources[address] ?? []).sorted().joined(separator: " and "))), "
                + "\(Int((share * 100).rounded())) % of its \(info.limitName) \(info.limit)"
            if share > Preflight.memoryFailShare { fails.append(text) } else if share > Preflight.memoryWarnShare { warns.append(text) }
        }
        if !fails.isEmpty {
            return PreflightCheck("memory_headroom", .fail, fails.joined(separator: "; ") + " (the limit for a receiving node is 90 %)",
                                  figures: figures, action: "raise maxmemory on the receiving nodes, move fewer slots, or add a master")
        }
        if !warns.isEmpty || !unreadable.isEmpty {
            let message = (warns + unreadable.map { "not measured: \($0)" }).joined(separator: "; ")
            return PreflightCheck("memory_headroom", .warn, message, figures: figures,
                                  action: "check the receiving nodes' memory before running")
        }
        let message = incoming.isEmpty ? "no node receives keys" : "every node that receives keys stays under 75 % of its limit"
        return PreflightCheck("memory_headroom", .ok, message, figures: figures)
    }

    // MARK: - Big keys

    private func bigKeys(_ effects: PlanEffects, samples: (samples: [Int: SlotSampler.Sample], errors: [String])) -> PreflightCheck {
        let big = samples.samples.values.flatMap(\.bigKeys).sorted { $0.bytes > $1.bytes }
        let sampled = samples.samples.values.contains(where: \.sampled)
        var figures: [String: JSONValue] = [
            "big_key_bytes": .int(bigKeyBytes), "sampled": .bool(sampled),
            "keys": .array(big.prefix(20).map { .object(["key": .string($0.key), "bytes": .int($0.bytes), "node": .string($0.node)]) }),
        ]
        guard !big.isEmpty else {
            let how = sampled ? " (sampled: a few keys per slot were measured, as the slots hold many keys)" : ""
            return PreflightCheck("big_keys", .ok, "no key of the slots to move is \(bigKeyBytes) bytes or more\(how)", figures: figures)
        }
        let names = big.prefix(5).map { "\($0.key) (\($0.bytes) bytes on \($0.node))" }.joined(separator: ", ")
        if case .atomic = effects.method {
            return PreflightCheck("big_keys", .ok, "\(big.count) big key\(big.count == 1 ? "" : "s"): \(names); atomic migration sends them in pieces, so no source blocks on one",
                                  figures: figures)
        }
        // On the key path MIGRATE serializes, sends and deletes a key in one command: its source serves nothing else
        // meanwhile. About 100 MB/s on loopback is the order of it.
        let seconds = Double(big.first?.bytes ?? 0) / Preflight.defaultSyncBytesRate
        figures["largest_blocks_source_seconds"] = .double((seconds * 10).rounded() / 10)
        return PreflightCheck("big_keys", .warn, "\(big.count) big key\(big.count == 1 ? "" : "s"): \(names). Each holds its source for its whole transfer "
                                + "(the largest about \(String(format: "%.1f", seconds)) s), during which clients of that node wait",
                              figures: figures, action: "run it in a quiet hour, or use atomic migration where the servers offer it")
    }

    // MARK: - Permissions

    private func permissions(_ effects: PlanEffects) -> PreflightCheck {
        let user = session.access.credentials?.username ?? "default"
        var denied: [String] = []
        var unchecked: [String] = []
        var checked = 0
        var seen = Set<String>()
        for (node, command) in effects.commands {
            let name = command.prefix(command.first?.uppercased() == "CLUSTER" || command.first?.uppercased() == "MEMORY" ? 2 : 1)
                .joined(separator: " ").uppercased()
            guard seen.insert("\(node) \(name)").inserted else { continue }
            do {
                if let reason = try session.aclDryRun(node, user: user, command) {
                    denied.append("\(name) on \(node) as user '\(user)': \(reason)")
                }
                checked += 1
            } catch {
                unchecked.append("\(name) on \(node): \(error)")
            }
        }
        let figures: [String: JSONValue] = ["user": .string(user), "commands_checked": .int(Int64(checked)),
                                            "denied": .int(Int64(denied.count)), "not_checked": .int(Int64(unchecked.count))]
        if !denied.isEmpty {
            return PreflightCheck("permissions", .fail, denied.joined(separator: "; "), figures: figures,
                                  action: "grant the user these commands (ACL SETUSER \(user) +<command>) on every node")
        }
        if !unchecked.isEmpty {
            return PreflightCheck("permissions", .warn, "could not be checked with ACL DRYRUN: " + unchecked.prefix(3).joined(separator: "; "),
                                  figures: figures, action: "allow the user ACL DRYRUN (+acl|dryrun) to have permissions checked before a job")
        }
        return PreflightCheck("permissions", .ok, "user '\(user)' may run all \(checked) commands the plan sends", figures: figures)
    }

    // MARK: - Time

    private func time(_ effects: PlanEffects, samples: (samples: [Int: SlotSampler.Sample], errors: [String])) -> PreflightCheck {
        let keys = samples.samples.values.reduce(Int64(0)) { $0 + $1.keys }
        let bytes = samples.samples.values.reduce(Int64(0)) { $0 + $1.bytes }
        var figures: [String: JSONValue] = ["keys_to_move": .int(keys), "bytes_to_move": .int(bytes),
                                            "slots_to_move": .int(Int64(effects.moves.reduce(0) { $0 + $1.count }))]
        var seconds = 0.0
        var basis: [String] = []
        if !effects.moves.isEmpty {
            let method: String = if case .atomic = effects.method { "atomic" } else { "keys" }
            let measured = measuredRate(method)
            let rate = measured ?? (method == "atomic" ? Preflight.defaultAtomicRate : Preflight.defaultKeysRate)
            seconds += Double(keys) / rate
            figures["keys_per_second"] = .double(rate.rounded())
            figures["rate_source"] = .string(measured == nil ? "default" : "measured")
            basis.append("\(keys) keys at \(Int(rate)) keys/s (\(measured == nil ? "default rate for \(method) moves" : "this cluster's last \(method) move"))")
        }
        for copy in effects.copies {
            if let dataset = try? session.memory(copy.master).usedMemory {
                seconds += Double(dataset) / Preflight.defaultSyncBytesRate
                figures["sync_bytes"] = .int(dataset)
                basis.append("a first sync of about \(dataset) bytes from \(copy.master)")
            }
        }
        figures["eta_seconds"] = .double((seconds * 10).rounded() / 10)
        let message = basis.isEmpty ? "moves no keys" : "about \(String(format: "%.1f", seconds)) s: " + basis.joined(separator: ", ")
        return PreflightCheck("time", .ok, message, figures: figures)
    }
}
