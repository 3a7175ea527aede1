import ClusterModel
import Foundation

/// Promotes a replica with CLUSTER FAILOVER, only when that keeps the data, and proves afterwards what happened.
///
/// - `default` needs the master's cooperation and a replica that holds its data: the runner waits up to
///   `waitSeconds` for the replica to be in sync and otherwise refuses (`replica_not_synced`) without sending
///   anything.
/// - `force` and `takeover` are for a master that is down. Against a master that still answers, a replica that is
///   behind is refused unless `acceptDataLoss`; the bytes it is behind are then recorded as what may be lost.
/// - After the switch an event sets the old master's key count before it beside the new master's after it, and an
///   old master that still answers must rejoin as a replica of the new one.
public struct FailoverRunner {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case `default`, force, takeover
    }

    /// What the checks before the switch found, for the job's result.
    public struct Outcome: Sendable, Equatable, Codable {
        /// Bytes the replica was behind a master that still answered, accepted as possibly lost (0 when in sync):
        /// the offset gap, or the master's whole data set for a replica that never completed a sync.
        public var bytesAtRisk: Int64?
        /// Keys the master held beyond the replica's, when the replica was behind.
        public var keysAtRisk: Int?
        public var oldMasterKeysBefore: Int?
        public var newMasterKeysAfter: Int?
        public var oldMasterRejoined: Bool?
    }

    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    public func run(replica: String, replicaId: String, mode: Mode, waitSeconds: Double = 60, acceptDataLoss: Bool = false,
                    timeout: Double = 30) throws(ClusterOpsError) -> Outcome {
        var outcome = Outcome()
        let view = try session.view(replica)
        if view.myself.isMaster {
            observer.event("\(replica) is already a master", node: replica)
            return outcome
        }
        guard let masterId = view.myself.masterId, let masterEntry = view.nodes.first(where: { $0.id == masterId }) else {
            throw .impossible("\(replica) names no master it replicates")
        }
        let master = masterEntry.address
        let masterAnswers = session.answersPing(master, within: 2)
        let sync = ReplicaSync(session: session, observer: observer)

        switch mode {
        case .default:
            guard masterAnswers else {
                throw .impossible("\(master), the master of \(replica), does not answer; a default failover needs it. "
                                  + "Use \"mode\": \"force\" (or \"takeover\" when most masters are down too)")
            }
            observer.step("waiting for \(replica) to be in sync with \(master)")
            try waitInSync(sync, replica: replica, master: master, waitSeconds: waitSeconds)
        case .force, .takeover:
            if masterAnswers {
                let (state, replicaInfo, masterInfo) = try session.syncState(replica: replica, master: master)
                var gap = max(0, masterInfo.masterOffset - (replicaInfo.replicaOffset ?? replicaInfo.masterOffset))
                // A replica that never completed a sync does not share its master's replication id: its offset says
                // nothing, and what it lacks is everything.
                if replicaInfo.replicationId != masterInfo.replicationId, let dataset = try? session.memory(master).usedMemory {
                    gap = max(gap, dataset)
                }
                if !state.isInSync {
                    let masterKeys = session.keyCount(master) ?? 0
                    let replicaKeys = session.keyCount(replica) ?? 0
                    outcome.keysAtRisk = max(0, masterKeys - replicaKeys)
                    guard acceptDataLoss else {
                        throw .replicaNotSynced("\(master) still answers and \(replica) is \(state): replica offset "
                            + "\(replicaInfo.replicaOffset ?? 0), master offset \(masterInfo.masterOffset). A \(mode.rawValue) failover "
                            + "would lose up to \(gap) bytes (\(outcome.keysAtRisk ?? 0) keys) of writes. Use \"mode\": \"default\" (it waits for the replica), or send "
                            + "\"accept_data_loss\": true to accept that loss")
                    }
                    observer.event("accept_data_loss: \(replica) is \(state); up to \(gap) bytes (\(outcome.keysAtRisk ?? 0) keys) of "
                                   + "writes may be lost", node: replica)
                }
                outcome.bytesAtRisk = state.isInSync ? 0 : gap
            } else {
                observer.event("\(master) does not answer; promoting \(replica) without it (\(mode.rawValue))", node: replica)
            }
        }
        if masterAnswers {
            outcome.oldMasterKeysBefore = session.keyCount(master)
        }

        var command = ["CLUSTER", "FAILOVER"]
        if mode != .default { command.append(mode.rawValue.uppercased()) }
        // Never resent: a second FAILOVER would restart a promotion that may be under way. Whether the first one
        // arrived shows in the promotion the next step waits for.
        if try session.change(replica, command, verify: nil) == nil {
            observer.event("\(command.joined(separator: " ")) sent to \(replica); its reply was lost, checking for the promotion", node: replica)
        } else {
            observer.event("\(command.joined(separator: " ")) sent to \(replica)", node: replica)
        }
        observer.step("waiting for the promotion")
        try session.waitUntil("\(replica) reports itself master", timeout: timeout) { () throws(ClusterOpsError) -> Bool in
            try session.view(replica).myself.isMaster
        }
        try session.waitUntil("every reachable node sees \(replica) as master", timeout: timeout) { () throws(ClusterOpsError) -> Bool in
            let (_, observations) = session.topology()
            return observations.allSatisfy { observation in
                guard let nodes = observation.nodes else { return true }
                return nodes.contains { $0.id == replicaId && $0.isMaster }
            }
        }
        observer.event("\(replica) is now a master", node: replica)
        outcome.newMasterKeysAfter = session.keyCount(replica)
        let before = outcome.oldMasterKeysBefore.map(String.init) ?? "unknown (it did not answer)"
        observer.event("keys: \(master) held \(before) before the switch; \(replica) holds "
                       + "\(outcome.newMasterKeysAfter.map(String.init) ?? "unknown") after it", node: replica)

        if session.answersPing(master, within: 2) {
            observer.step("waiting for \(master) to rejoin as a replica of \(replica)")
            try session.waitUntil("\(master) replicates \(replica)", timeout: timeout, giveUp: { () throws(ClusterOpsError) in
                throw .verificationFailed(["\(master), the old master, still answers but did not rejoin as a replica of \(replica) within \(Int(timeout)) s"])
            }) { () throws(ClusterOpsError) -> Bool in
                try session.view(master).myself.masterId == replicaId
            }
            try sync.waitInSync(replica: master, master: replica, timeout: max(timeout, waitSeconds))
            outcome.oldMasterRejoined = true
            observer.event("\(master) rejoined as a replica of \(replica) and is in sync", node: master)
        } else {
            observer.event("\(master) does not answer; when it comes back it rejoins as a replica of \(replica)", node: master)
        }
        return outcome
    }

    /// The default mode's wait: the replica in sync within `waitSeconds`, else `replica_not_synced` with both offsets.
    private func waitInSync(_ sync: ReplicaSync, replica: String, master: String, waitSeconds: Double) throws(ClusterOpsError) {
        var last: (ReplicaSyncState, ReplicationInfo, ReplicationInfo)?
        try session.waitUntil("\(replica) is in sync", timeout: waitSeconds, giveUp: { () throws(ClusterOpsError) in
            let state = last.map { "\($0.0)" } ?? "unknown"
            var why = ""
            if case .linkDown? = last?.0 { why = " " + sync.diagnosis(replica: replica, master: master) }
            let replicaOffset = last?.1.replicaOffset ?? 0
            let masterOffset = last?.2.masterOffset ?? 0
            throw .replicaNotSynced("\(replica) is not in sync with \(master) after \(Int(waitSeconds)) s: it is \(state); "
                                    + "replica offset \(replicaOffset), master offset \(masterOffset). Nothing was changed: "
                                    + "promoting it would lose the difference." + why)
        }) { () throws(ClusterOpsError) -> Bool in
            let state = try session.syncState(replica: replica, master: master)
            last = state
            return state.0.isInSync
        }
        if let last { observer.event("\(replica) is \(last.0) with \(master)", node: replica) }
    }
}
