import ClusterModel
import ClusterOps
import HTTPServer
import Jobs
import RESP

/// Reads a job endpoint's body into validated `JobParams`; every mistake is a 400 naming the field.
enum JobRequestParser {
    static func parse(_ type: JobType, _ request: HTTPRequest) throws -> (params: JobParams, dryRun: Bool) {
        let common: Set<String> = ["dry_run"]
        switch type {
        case .create:
            let body = try RequestBody(request, allowed: common.union(["replicas"]))
            let replicas = try body.int("replicas") ?? 1
            guard (0...16).contains(replicas) else { throw HTTPError(400, "field 'replicas' must be 0 to 16") }
            return (.create(replicas: replicas), try body.bool("dry_run") ?? false)
        case .addNode:
            let body = try RequestBody(request, allowed: common.union(["address", "role", "master"]))
            let address = try endpoint(body.requiredString("address"), field: "address")
            guard let role = JobParams.NodeRole(rawValue: try body.string("role") ?? "master") else {
                throw HTTPError(400, "field 'role' must be \"master\" or \"replica\"")
            }
            let master = try body.string("master")
            if master != nil && role == .master { throw HTTPError(400, "field 'master' applies to role \"replica\" only") }
            return (.addNode(address: address, role: role, master: master), try body.bool("dry_run") ?? false)
        case .reshard:
            let body = try RequestBody(request, allowed: common.union(["to", "slots", "from", "slot_ranges", "replace"]))
            let to = try body.requiredString("to")
            let source: JobParams.ReshardSource
            if let raw = body.raw("slot_ranges"), raw != .null {
                if body.has("slots") || body.has("from") {
                    throw HTTPError(400, "give either 'slot_ranges' or 'slots' (with optional 'from'), not both")
                }
                source = .ranges(try slotRanges(raw))
            } else {
                guard let count = try body.int("slots") else { throw HTTPError(400, "field 'slots' (a count) or 'slot_ranges' is required") }
                guard (1...16384).contains(count) else { throw HTTPError(400, "field 'slots' must be 1 to 16384") }
                source = .count(count, from: try sources(body.raw("from")))
            }
            return (.reshard(to: to, source: source, replace: try body.bool("replace") ?? false), try body.bool("dry_run") ?? false)
        case .rebalance:
            let body = try RequestBody(request, allowed: common.union(["weights", "threshold_percent", "use_empty_masters", "replace"]))
            let threshold = try body.number("threshold_percent") ?? 2
            guard threshold.isFinite, (0...100).contains(threshold) else { throw HTTPError(400, "field 'threshold_percent' must be 0 to 100") }
            return (.rebalance(weights: try weights(body.raw("weights")), thresholdPercent: threshold,
                               useEmptyMasters: try body.bool("use_empty_masters") ?? false, replace: try body.bool("replace") ?? false),
                    try body.bool("dry_run") ?? false)
        case .delNode:
            let body = try RequestBody(request, allowed: common.union(["node", "replace"]))
            return (.delNode(node: try body.requiredString("node"), replace: try body.bool("replace") ?? false), try body.bool("dry_run") ?? false)
        case .fix:
            let body = try RequestBody(request, allowed: common.union(["replace"]))
            return (.fix(replace: try body.bool("replace") ?? false), try body.bool("dry_run") ?? false)
        case .failover:
            let body = try RequestBody(request, allowed: common.union(["replica", "mode"]))
            guard let mode = FailoverRunner.Mode(rawValue: try body.string("mode") ?? "default") else {
                throw HTTPError(400, "field 'mode' must be \"default\", \"force\" or \"takeover\"")
            }
            return (.failover(replica: try body.requiredString("replica"), mode: mode), try body.bool("dry_run") ?? false)
        case .setTimeout:
            let body = try RequestBody(request, allowed: common.union(["node_timeout_ms"]))
            guard let milliseconds = try body.int("node_timeout_ms") else { throw HTTPError(400, "field 'node_timeout_ms' is required") }
            guard (100...3_600_000).contains(milliseconds) else { throw HTTPError(400, "field 'node_timeout_ms' must be 100 to 3600000") }
            return (.setTimeout(milliseconds: milliseconds), try body.bool("dry_run") ?? false)
        }
    }

    static func endpoint(_ text: String, field: String) throws(HTTPError) -> String {
        guard let endpoint = RedisEndpoint(text) else { throw HTTPError(400, "field '\(field)' must be host:port, not '\(text)'") }
        return endpoint.description
    }

    static func slotRanges(_ value: JSONValue) throws(HTTPError) -> SlotSet {
        guard case .array(let items) = value, !items.isEmpty else {
            throw HTTPError(400, "field 'slot_ranges' must be a non-empty array of [first, last] pairs")
        }
        var pairs: [[Int]] = []
        for item in items {
            guard case .array(let bounds) = item, bounds.count == 2,
                  case .int(let first) = bounds[0], case .int(let last) = bounds[1],
                  let a = Int(exactly: first), let b = Int(exactly: last) else {
                throw HTTPError(400, "field 'slot_ranges' must hold [first, last] pairs of integers")
            }
            pairs.append([a, b])
        }
        do {
            return try SlotSet.validated(pairs)
        } catch {
            throw HTTPError(400, "field 'slot_ranges': \(error.description)")
        }
    }

    static func sources(_ value: JSONValue?) throws(HTTPError) -> [String]? {
        switch value {
        case nil, .null?, .string("all")?: return nil
        case .array(let items)?:
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw HTTPError(400, "field 'from' must be \"all\" or an array of nodes") }
                result.append(text)
            }
            guard !result.isEmpty else { throw HTTPError(400, "field 'from' must not be empty") }
            return result
        default: throw HTTPError(400, "field 'from' must be \"all\" or an array of nodes")
        }
    }

    static func weights(_ value: JSONValue?) throws(HTTPError) -> [String: Double] {
        switch value {
        case nil, .null?: return [:]
        case .object(let fields)?:
            var result: [String: Double] = [:]
            for (node, weight) in fields {
                let number: Double
                switch weight {
                case .int(let value): number = Double(value)
                case .double(let value): number = value
                default: throw HTTPError(400, "weight of '\(node)' must be a number")
                }
                guard number.isFinite, number >= 0, number <= 1_000_000 else { throw HTTPError(400, "weight of '\(node)' must be 0 to 1000000") }
                result[node] = number
            }
            return result
        default: throw HTTPError(400, "field 'weights' must be an object of node: weight")
        }
    }
}
