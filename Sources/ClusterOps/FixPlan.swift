import ClusterModel

/// What `fix` will do, decided from a topology: the open-slot cases and uncovered slots redis-cli repairs,
/// and the slots it cannot repair, with the reason.
public struct FixPlan: Sendable, Equatable, Codable {
    public struct Migration: Sendable, Equatable, Codable {
        public var slot: Int
        public var from: String
        public var to: String
    }

    public struct Close: Sendable, Equatable, Codable {
        public var slot: Int
        /// Node whose importing/migrating state is cleared.
        public var node: String
        /// Where keys it holds in the slot go first (the owner), for importing nodes.
        public var owner: String?
    }

    public struct Unfixable: Sendable, Equatable, Codable {
        public var slot: Int
        public var reason: String
    }

    /// Open slots to finish moving (one node migrating, its peer importing).
    public var continueMigrations: [Migration]
    /// Open slots to close.
    public var closeSlots: [Close]
    /// Slots no master owns; the owner is chosen when the fix runs, from where their keys are.
    public var uncoveredSlots: SlotSet
    public var unfixable: [Unfixable]

    public var isEmpty: Bool {
        continueMigrations.isEmpty && closeSlots.isEmpty && uncoveredSlots.isEmpty && unfixable.isEmpty
    }

    public static func make(from topology: ClusterTopology) -> FixPlan {
        var plan = FixPlan(continueMigrations: [], closeSlots: [], uncoveredSlots: topology.checks.uncoveredSlots, unfixable: [])
        let openSlots = Set(topology.checks.openSlots.map(\.slot)).sorted()
        for slot in openSlots {
            let migrating = topology.nodes.compactMap { node in node.migrating?[slot].map { (node.id, $0) } }
            let importing = topology.nodes.compactMap { node in node.importing?[slot].map { (node.id, $0) } }
            let owner = topology.nodes.first { $0.isMaster && $0.slots.contains(slot) }?.id
            if migrating.count == 1, importing.count == 1, migrating[0].1 == importing[0].0, importing[0].1 == migrating[0].0 {
                plan.continueMigrations.append(Migration(slot: slot, from: migrating[0].0, to: importing[0].0))
            } else if migrating.count == 1, importing.isEmpty, owner == migrating[0].0 {
                plan.closeSlots.append(Close(slot: slot, node: migrating[0].0, owner: nil))
            } else if migrating.isEmpty, !importing.isEmpty, let owner {
                for (node, _) in importing where node != owner {
                    plan.closeSlots.append(Close(slot: slot, node: node, owner: owner))
                }
            } else {
                plan.unfixable.append(Unfixable(slot: slot, reason:
                    "slot \(slot) is migrating on \(migrating.count) node(s) and importing on \(importing.count) with owner \(owner ?? "none"); resolve it by hand"))
            }
        }
        return plan
    }
}
