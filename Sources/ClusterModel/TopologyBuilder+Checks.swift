extension TopologyBuilder {
    static func check(
        nodes: [TopologyNode], views: [NodeObservation], unreachable: [String],
        flagged: (failing: Set<String>, possibly: Set<String>)
    ) -> TopologyChecks {
        let byId = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let label = { (id: String) in byId[id]?.address ?? id }
        var messages: [String] = []

        let disagreements = configDisagreements(views, label: label)
        messages.append(disagreements.isEmpty
            ? "[OK] All nodes agree about slots configuration."
            : "[ERR] Nodes don't agree about configuration!")

        var openSlots: [OpenSlot] = []
        for node in nodes {
            for (state, map) in [("migrating", node.migrating), ("importing", node.importing)] {
                guard let map, !map.isEmpty else { continue }
                let slots = map.keys.sorted()
                messages.append("[WARNING] Node \(node.address) has slots in \(state) state "
                    + slots.map(String.init).joined(separator: ",") + ".")
                openSlots += slots.map {
                    OpenSlot(slot: $0, node: node.id, address: node.address, state: state, peer: map[$0] ?? "")
                }
            }
        }
        openSlots.sort { ($0.slot, $0.address, $0.state) < ($1.slot, $1.address, $1.state) }
        if !openSlots.isEmpty {
            let slots = Set(openSlots.map(\.slot)).sorted().map(String.init).joined(separator: ",")
            messages.append("[WARNING] The following slots are open: \(slots).")
        }

        // Like redis-cli, a master that is down (flagged fail and not answering) covers nothing.
        let covered = nodes
            .filter { $0.isMaster && !($0.reachable == false && flagged.failing.contains($0.id)) }
            .reduce(SlotSet()) { $0.union($1.slots) }
        let uncovered = SlotSet.all.subtracting(covered)
        messages.append(uncovered.isEmpty
            ? "[OK] All \(HashSlot.count) slots covered."
            : "[ERR] Not all \(HashSlot.count) slots are covered by nodes.")

        let failing = flagged.failing.map(label).sorted()
        let possiblyFailing = flagged.possibly.map(label).sorted()
        let lonely = nodes.filter { $0.isMaster && !$0.slots.isEmpty && $0.replicas.isEmpty }.map(\.address)
        messages += failing.map { "[ERR] Node \($0) is flagged as failing." }
        messages += possiblyFailing.map { "[WARNING] Node \($0) is possibly failing." }
        messages += lonely.map { "[WARNING] Master \($0) has no replicas." }
        var seenUnreachable: Set<String> = []
        let unreachableNodes = unreachable.filter { seenUnreachable.insert($0).inserted }
        messages += unreachableNodes.map { "[ERR] Node \($0) is unreachable." }

        let ok = disagreements.isEmpty && openSlots.isEmpty && uncovered.isEmpty && failing.isEmpty
            && possiblyFailing.isEmpty && unreachableNodes.isEmpty
        return TopologyChecks(
            ok: ok, slotsCovered: uncovered.isEmpty, uncoveredSlots: uncovered, nodesAgree: disagreements.isEmpty,
            disagreements: disagreements, openSlots: openSlots, failingNodes: failing,
            possiblyFailingNodes: possiblyFailing, mastersWithoutReplicas: lonely,
            unreachableNodes: unreachableNodes, messages: messages)
    }

    /// redis-cli's config signature: which node owns which slots, per view. Every view is compared
    /// with the first one and each differing claim becomes a sentence.
    private static func configDisagreements(
        _ views: [NodeObservation], label: (String) -> String
    ) -> [String] {
        guard let reference = views.first else { return [] }
        let signature = { (view: NodeObservation) -> [String: SlotSet] in
            var owners: [String: SlotSet] = [:]
            for entry in view.nodes ?? [] where !entry.slots.isEmpty {
                owners[entry.id] = entry.slots
            }
            return owners
        }
        let expected = signature(reference)
        var sentences: [String] = []
        for view in views.dropFirst() {
            let actual = signature(view)
            // In a healthy cluster every view agrees: skip the per-node comparison and its sorting.
            guard actual != expected else { continue }
            for id in Set(expected.keys).union(actual.keys).sorted() {
                let mine = actual[id] ?? SlotSet()
                let theirs = expected[id] ?? SlotSet()
                guard mine != theirs else { continue }
                sentences.append("\(view.address) sees \(label(id)) (\(id.prefix(8))) owning \(describe(mine)), "
                    + "but \(reference.address) sees it owning \(describe(theirs)).")
            }
        }
        return sentences
    }

    private static func describe(_ slots: SlotSet) -> String {
        slots.isEmpty ? "no slots" : "\(slots) (\(slots.count) slots)"
    }
}
