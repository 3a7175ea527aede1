import ClusterModel
import ClusterOps

/// Carries out a plan with the operations layer. Every operation decides from the cluster's live state, so
/// running a plan again after an interruption finishes it rather than repeating it.
struct JobExecutor {
    let session: ClusterSession
    let reporter: JobReporter
    let options: MigrationOptions

    /// `.stopped` when the job stopped at a safe point (cancel or shutdown) before finishing.
    func run(_ params: JobParams, plan: JobPlan) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        switch params {
        case .create:
            guard let create = plan.create else { throw .failed("create job without a create plan") }
            try ClusterCreator(session: session, observer: reporter).run(create)
        case .addNode:
            guard let node = plan.node else { throw .failed("add-node job without a node") }
            reporter.step("checking the cluster")
            let topology = try session.waitForConvergence(timeout: 60)
            guard let existing = topology.nodes.first(where: { $0.reachable && $0.address != node.address }) else {
                throw .impossible("no member of the cluster is reachable")
            }
            let members = Set(topology.nodes.filter { $0.address != node.address }.map(\.id))
            try NodeJoiner(session: session, observer: reporter)
                .run(address: node.address, existing: existing.address, members: members, masterId: node.masterId)
        case .reshard, .rebalance:
            return try moveSlots(plan.moves)
        case .delNode:
            guard let node = plan.node, let nodeId = node.id else { throw .failed("del-node job without a node") }
            if try moveSlots(plan.moves) == .stopped { return .stopped }
            reporter.step("removing \(node.address)")
            let (topology, _) = session.topology()
            let others = topology.nodes.filter { $0.id != nodeId && $0.reachable }.map(\.address)
            let reassign = Dictionary(plan.reassign.map { ($0.replicaAddress, $0.master) }, uniquingKeysWith: { first, _ in first })
            try NodeRemover(session: session, observer: reporter).run(nodeId: nodeId, address: node.address, others: others, reassign: reassign)
        case .fix:
            reporter.step("reading the cluster")
            let (topology, _) = session.topology()
            // Re-planned from the live state: a resumed fix must not redo what it already did.
            let fix = FixPlan.make(from: topology)
            try SlotFixer(session: session, options: options, observer: reporter).run(fix, topology: topology, acceptDataLoss: false)
            reporter.step("waiting for convergence")
            try session.waitForConvergence(timeout: 60)
        case .failover(_, let mode):
            guard let node = plan.node, let id = node.id else { throw .failed("failover job without a replica") }
            try FailoverRunner(session: session, observer: reporter).run(replica: node.address, replicaId: id, mode: mode)
        case .setTimeout(let milliseconds):
            try TimeoutSetter(session: session, observer: reporter).run(milliseconds: milliseconds, nodes: plan.nodes)
        }
        return .completed
    }

    /// Waits for convergence, then moves each planned batch; the cluster is re-read so addresses are current.
    private func moveSlots(_ moves: [JobPlan.Move]) throws(ClusterOpsError) -> SlotMigrator.Outcome {
        guard !moves.isEmpty else { return .completed }
        reporter.step("waiting for convergence")
        let topology = try session.waitForConvergence(timeout: 60)
        var addresses = Dictionary(topology.nodes.map { ($0.id, $0.address) }, uniquingKeysWith: { first, _ in first })
        for move in moves {
            addresses[move.from] = addresses[move.from] ?? move.fromAddress
            addresses[move.to] = addresses[move.to] ?? move.toAddress
        }
        let masters = topology.masters.map(\.address)
        reporter.step("moving slots")
        let migrator = SlotMigrator(session: session, options: options, observer: reporter)
        for move in moves {
            let outcome = try migrator.run(SlotMove(from: move.from, to: move.to, slots: move.slots), addresses: addresses, masters: masters)
            if outcome == .stopped { return .stopped }
        }
        reporter.step("waiting for convergence")
        try session.waitForConvergence(timeout: 60)
        return .completed
    }
}
