import ClusterModel
import RESP

/// Carries out a FixPlan: finishes or closes open slots, then covers uncovered slots, choosing for each the
/// master that holds its keys (or, when none does, the master with the fewest slots).
public struct SlotFixer {
    let session: ClusterSession
    let options: MigrationOptions
    let observer: any OperationObserver

    public init(session: ClusterSession, options: MigrationOptions, observer: any OperationObserver) {
        self.session = session
        self.options = options
        self.observer = observer
    }

    public func run(_ plan: FixPlan, topology: ClusterTopology) throws(ClusterOpsError) {
        let addresses = Dictionary(topology.nodes.map { ($0.id, $0.address) }, uniquingKeysWith: { first, _ in first })
        let masters = topology.masters.map(\.address)
        func address(_ id: String) throws(ClusterOpsError) -> String {
            guard let address = addresses[id] else { throw .impossible("node \(id) is not in the cluster") }
            return address
        }

        observer.step("closing open slots")
        let migrator = SlotMigrator(session: session, options: options, observer: observer)
        for migration in plan.continueMigrations {
            _ = try migrator.run(SlotMove(from: migration.from, to: migration.to, slots: SlotSet([migration.slot])),
                                 addresses: addresses, masters: masters)
            observer.event("finished moving slot \(migration.slot) to \(try address(migration.to))", node: try address(migration.from))
        }
        for close in plan.closeSlots {
            let node = try address(close.node)
            if let owner = close.owner {
                try moveKeysBack(slot: close.slot, from: node, to: try address(owner))
            } else if let peer = topology.node(id: close.node)?.migrating?[close.slot], let peerAddress = addresses[peer],
                      (try session.call(peerAddress, ["CLUSTER", "COUNTKEYSINSLOT", "\(close.slot)"]).int ?? 0) > 0 {
                throw .failed("slot \(close.slot): \(peerAddress) holds keys of it but is not importing it; resolve it by hand")
            }
            try session.call(node, ["CLUSTER", "SETSLOT", "\(close.slot)", "STABLE"])
            observer.event("slot \(close.slot) set stable", node: node)
        }

        if !plan.uncoveredSlots.isEmpty {
            observer.step("covering \(plan.uncoveredSlots.count) slots")
            try cover(plan.uncoveredSlots, masters: topology.masters)
        }
        if !plan.unfixable.isEmpty {
            throw .impossible(plan.unfixable.map(\.reason).joined(separator: "; "))
        }
    }

    private func cover(_ slots: SlotSet, masters: [TopologyNode]) throws(ClusterOpsError) {
        guard !masters.isEmpty else { throw .impossible("no master is left to take slots \(slots)") }
        var holders: [Int: [String]] = [:]
        for master in masters {
            let counts = try session.pipelineAll(master.address, slots.slots.map { ["CLUSTER", "COUNTKEYSINSLOT", "\($0)"] })
            for (slot, count) in zip(slots.slots, counts) where (count.int ?? 0) > 0 {
                holders[slot, default: []].append(master.address)
            }
        }
        if let (slot, nodes) = holders.first(where: { $0.value.count > 1 }) {
            throw .impossible("slot \(slot) is uncovered and \(nodes.joined(separator: ", ")) all hold keys of it; resolve it by hand")
        }
        // Slots without keys go to the master with the fewest slots, as evenly as redis-cli would leave them.
        let fewest = masters.min { ($0.slotCount, $0.address) < ($1.slotCount, $1.address) }!
        var assignment: [String: [Int]] = [:]
        for slot in slots.slots {
            assignment[holders[slot]?.first ?? fewest.address, default: []].append(slot)
        }
        for (address, owned) in assignment.sorted(by: { $0.key < $1.key }) {
            let set = SlotSet(owned)
            try session.call(address, ["CLUSTER", "ADDSLOTSRANGE"] + set.ranges.flatMap { ["\($0.lowerBound)", "\($0.upperBound)"] })
            _ = try? session.call(address, ["CLUSTER", "BUMPEPOCH"])
            observer.event("assigned uncovered slots \(set) to \(address)", node: address)
        }
    }

    /// Keys an importing node holds in a slot it does not own go back to the owner (ASKING lets it serve them).
    private func moveKeysBack(slot: Int, from node: String, to owner: String) throws(ClusterOpsError) {
        guard let endpoint = RedisEndpoint(owner) else { throw .impossible("bad address \(owner)") }
        for _ in 0..<100_000 {
            let keys = (try session.call(node, ["CLUSTER", "GETKEYSINSLOT", "\(slot)", "\(options.keysPerMigrate)"]).array ?? [])
                .compactMap(\.bytes)
            if keys.isEmpty { return }
            let migrate = session.migrateCommand(keys, to: endpoint, options: options, replace: options.replace)
            let connection = try session.connection(node)
            do {
                _ = try connection.pipeline([[Array("ASKING".utf8)], migrate])[1].get()
            } catch .busyKey {
                throw .busyKeys(slot: slot, keys: keys.map { String(decoding: $0, as: UTF8.self) })
            } catch {
                throw .redis(endpoint: node, error)
            }
            observer.event("moved \(keys.count) keys of slot \(slot) back to its owner \(owner)", node: node)
        }
        throw .failed("slot \(slot): keys kept appearing on \(node)")
    }
}
