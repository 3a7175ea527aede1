import ClusterModel
import RESP

/// One server-side slot migration as a node reports it (Valkey's `CLUSTER GETSLOTMIGRATIONS` entry, Redis's
/// `CLUSTER MIGRATION STATUS` task).
public struct AtomicMigrationStatus: Sendable, Equatable {
    public enum Phase: String, Sendable, Equatable {
        case active
        case succeeded
        case failed
        case cancelled

        public var isFinal: Bool { self != .active }
    }

    /// Valkey's job name or Redis's task id: the same on both sides of the migration.
    public var id: String
    public var slots: SlotSet
    /// Node ids; nil where the node does not say (a Valkey replica's entry).
    public var source: String?
    public var target: String?
    /// The server's own state name ("snapshotting", "send-bulk-and-stream", "success", ...).
    public var state: String
    public var phase: Phase
    /// Why it failed, as the server put it; empty when it did not.
    public var message: String

    public init(id: String, slots: SlotSet, source: String?, target: String?, state: String, phase: Phase, message: String) {
        self.id = id
        self.slots = slots
        self.source = source
        self.target = target
        self.state = state
        self.phase = phase
        self.message = message
    }

    /// `"0-1364 5461-6826"` (Valkey, Redis), also `"12500-12500"` or `"7"` for one slot.
    static func parseSlots(_ text: String) -> SlotSet? {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(whereSeparator: { $0 == " " || $0 == "," }) {
            let bounds = part.split(separator: "-", maxSplits: 1).map { Int($0) }
            guard let start = bounds.first ?? nil, let end = bounds.count == 2 ? bounds[1] : start,
                  start >= 0, start <= end, end < HashSlot.count else { return nil }
            ranges.append(start...end)
        }
        return ranges.isEmpty ? nil : SlotSet(ranges: ranges)
    }

    /// What a server calls the fields of one entry.
    struct FieldNames {
        var id: String
        var slots: String
        var source: String
        var target: String
        var message: String
    }

    /// A list reply of entries (each a flat field array), read with the server's field names and state meanings;
    /// nil when any entry lacks its id, slots or state.
    static func list(_ reply: RESPValue, names: FieldNames, phase: (String) -> Phase) -> [AtomicMigrationStatus]? {
        guard let entries = reply.array else { return nil }
        var result: [AtomicMigrationStatus] = []
        for entry in entries {
            guard let fields = entry.fields, let id = fields[names.id]?.string,
                  let slots = fields[names.slots]?.string.flatMap(parseSlots), let state = fields["state"]?.string else {
                return nil
            }
            result.append(AtomicMigrationStatus(id: id, slots: slots, source: fields[names.source]?.string,
                                                target: fields[names.target]?.string, state: state, phase: phase(state),
                                                message: (fields[names.message]?.string ?? "").trimmingWhitespace()))
        }
        return result
    }
}
