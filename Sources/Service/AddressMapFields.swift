import ClusterModel
import ClusterOps
import Jobs
import RESP

/// The `address_map` object of a cluster registration, for nodes that announce addresses the service cannot reach:
/// `{"nodes": {"<announced host:port>": "<reachable host:port>", ...}, "rules": [{"announced": "<CIDR>",
/// "reachable": "<host>", "port_offset": <int>}, ...]}`, both members optional. Exact `nodes` entries win over
/// rules; the first rule whose CIDR holds the announced IP wins; other addresses are dialled as announced.
/// No `address_map` (or `{}`) means every node is dialled at the address it announces.
enum AddressMapFields {
    static let allowed: Set<String> = ["nodes", "rules"]
    static let ruleFields: Set<String> = ["announced", "reachable", "port_offset"]
    static let maxNodes = 1024
    static let maxRules = 64

    /// The shape of the object (400 when wrong); nil when no node is mapped.
    static func parse(_ fields: RequestFields) throws -> AddressMap? {
        guard let value = fields.raw("address_map") else { return nil }
        guard case .object(let object) = value else {
            throw ServiceError.invalid("field 'address_map' must be an object with \(allowed.sorted().joined(separator: ", "))")
        }
        let map: RequestFields
        do {
            map = try RequestFields(object, allowed: allowed)
        } catch {
            throw ServiceError.invalid("field 'address_map': \(error.message)")
        }
        let result = AddressMap(nodes: try nodes(map.raw("nodes")), rules: try rules(map.raw("rules")))
        return result.isEmpty ? nil : result
    }

    /// The first address the map would dial that is not loopback: refused unless remote nodes are allowed.
    static func remoteTarget(_ map: AddressMap?) -> String? {
        guard let map else { return nil }
        return map.reachableHosts.first { !RedisEndpoint(host: $0, port: 1).isLoopback }
    }

    private static func nodes(_ value: JSONValue?) throws -> [String: String] {
        guard let value else { return [:] }
        guard case .object(let entries) = value, entries.count <= maxNodes else {
            throw ServiceError.invalid("field 'address_map.nodes' must be an object of at most \(maxNodes) \"announced host:port\": \"reachable host:port\" entries")
        }
        var nodes: [String: String] = [:]
        for (announced, reachable) in entries {
            guard RequestFields.address(announced) != nil else {
                throw ServiceError.invalid("address_map.nodes key '\(announced)' is not host:port (IPv6 as [addr]:port)")
            }
            guard case .string(let text) = reachable, RequestFields.address(text) != nil else {
                throw ServiceError.invalid("address_map.nodes['\(announced)'] must be a \"host:port\" string (IPv6 as [addr]:port)")
            }
            nodes[announced] = text
        }
        return nodes
    }

    private static func rules(_ value: JSONValue?) throws -> [AddressMap.Rule] {
        guard let value else { return [] }
        guard case .array(let items) = value, items.count <= maxRules else {
            throw ServiceError.invalid("field 'address_map.rules' must be an array of at most \(maxRules) rules")
        }
        return try items.enumerated().map { index, item in
            let name = "address_map.rules[\(index)]"
            guard case .object(let object) = item else { throw ServiceError.invalid("\(name) must be an object") }
            let rule: RequestFields
            do {
                rule = try RequestFields(object, allowed: ruleFields)
            } catch let error as RequestFieldError {
                throw ServiceError.invalid("\(name): \(error.message)")
            }
            let announced = try rule.requiredString("announced")
            let reachable = try rule.requiredString("reachable")
            let offset = try rule.int("port_offset", in: -65534...65534) ?? 0
            let result = AddressMap.Rule(announced: announced, reachable: reachable, portOffset: offset)
            guard result.network != nil else {
                throw ServiceError.invalid("\(name).announced must be a CIDR such as 10.0.0.0/24 or fd00::/8, not '\(announced)'")
            }
            let probe = reachable.contains(":") ? "[\(reachable)]:1" : "\(reachable):1"
            let validV6 = !reachable.contains(":") || AddressMap.ipBytes(reachable)?.count == 16
            guard validV6, RequestFields.address(probe) != nil else {
                throw ServiceError.invalid("\(name).reachable must be a host name or IP address without port, not '\(reachable)'")
            }
            return result
        }
    }
}
