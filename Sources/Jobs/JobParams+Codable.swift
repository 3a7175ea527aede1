import ClusterModel
import ClusterOps

/// Params are stored in the shape the API accepts, so `GET /jobs/{id}` shows the request as it was understood.
/// Reading them back needs the job's type, hence `decode(type:from:)` rather than `Decodable`.
extension JobParams: Encodable {
    private enum Key: String, CodingKey {
        case replicas, address, role, master, to, slots, from, slotRanges = "slot_ranges", replace, weights
        case thresholdPercent = "threshold_percent", useEmptyMasters = "use_empty_masters", node, replica, mode
        case nodeTimeoutMs = "node_timeout_ms", type
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .create(let replicas):
            try container.encode(replicas, forKey: .replicas)
        case .addNode(let address, let role, let master):
            try container.encode(address, forKey: .address)
            try container.encode(role, forKey: .role)
            try container.encodeIfPresent(master, forKey: .master)
        case .reshard(let to, let source, let replace):
            try container.encode(to, forKey: .to)
            switch source {
            case .count(let count, let from):
                try container.encode(count, forKey: .slots)
                if let from { try container.encode(from, forKey: .from) } else { try container.encode("all", forKey: .from) }
            case .ranges(let set):
                try container.encode(set, forKey: .slotRanges)
            }
            try container.encode(replace, forKey: .replace)
        case .rebalance(let weights, let threshold, let useEmpty, let replace):
            try container.encode(weights, forKey: .weights)
            try container.encode(threshold, forKey: .thresholdPercent)
            try container.encode(useEmpty, forKey: .useEmptyMasters)
            try container.encode(replace, forKey: .replace)
        case .delNode(let node, let replace):
            try container.encode(node, forKey: .node)
            try container.encode(replace, forKey: .replace)
        case .fix(let replace):
            try container.encode(replace, forKey: .replace)
        case .failover(let replica, let mode):
            try container.encode(replica, forKey: .replica)
            try container.encode(mode, forKey: .mode)
        case .setTimeout(let milliseconds):
            try container.encode(milliseconds, forKey: .nodeTimeoutMs)
        }
    }

    /// Decodes stored params; the job's type says which shape to expect.
    public static func decode(type: JobType, from decoder: any Decoder) throws -> JobParams {
        let container = try decoder.container(keyedBy: Key.self)
        switch type {
        case .create:
            return .create(replicas: try container.decode(Int.self, forKey: .replicas))
        case .addNode:
            return .addNode(address: try container.decode(String.self, forKey: .address),
                            role: try container.decode(NodeRole.self, forKey: .role),
                            master: try container.decodeIfPresent(String.self, forKey: .master))
        case .reshard:
            let source: ReshardSource
            if let ranges = try container.decodeIfPresent(SlotSet.self, forKey: .slotRanges) {
                source = .ranges(ranges)
            } else {
                let from = try? container.decode([String].self, forKey: .from)
                source = .count(try container.decode(Int.self, forKey: .slots), from: from)
            }
            return .reshard(to: try container.decode(String.self, forKey: .to), source: source,
                            replace: try container.decodeIfPresent(Bool.self, forKey: .replace) ?? false)
        case .rebalance:
            return .rebalance(weights: try container.decodeIfPresent([String: Double].self, forKey: .weights) ?? [:],
                              thresholdPercent: try container.decodeIfPresent(Double.self, forKey: .thresholdPercent) ?? 2,
                              useEmptyMasters: try container.decodeIfPresent(Bool.self, forKey: .useEmptyMasters) ?? false,
                              replace: try container.decodeIfPresent(Bool.self, forKey: .replace) ?? false)
        case .delNode:
            return .delNode(node: try container.decode(String.self, forKey: .node),
                            replace: try container.decodeIfPresent(Bool.self, forKey: .replace) ?? false)
        case .fix:
            return .fix(replace: try container.decodeIfPresent(Bool.self, forKey: .replace) ?? false)
        case .failover:
            return .failover(replica: try container.decode(String.self, forKey: .replica),
                             mode: try container.decode(FailoverRunner.Mode.self, forKey: .mode))
        case .setTimeout:
            return .setTimeout(milliseconds: try container.decode(Int.self, forKey: .nodeTimeoutMs))
        }
    }
}
