/// `redis-cli --cluster create`: which nodes become masters, their slots, and who replicates whom.
public enum CreatePlanner {
    /// As redis-cli: nodes are interleaved round-robin across hosts (hosts in first-seen order); the first
    /// `count / (replicas + 1)` become masters and split the slots with a single-precision cursor; the
    /// rest, rotated by one, are handed out so each master first takes a node on another host if any is
    /// left; leftovers give one extra replica per master in a second pass. redis-cli then random-swaps
    /// replicas while the anti-affinity score does not get worse; this keeps its own deterministic pass
    /// that only accepts strict improvements, so layouts that cannot be improved (e.g. everything on
    /// one host) stay exactly as redis-cli first prints them ("Adding replica ... to ...").
    public static func plan(addresses: [String], replicas: Int) throws(ClusterModelError) -> CreatePlan {
        guard replicas >= 0 else { throw .invalidArgument("replicas must not be negative, got \(replicas)") }
        var hosts: [String] = []
        for address in addresses {
            guard let host = host(of: address) else { throw .invalidArgument("\(address) is not host:port") }
            guard !addresses.prefix(hosts.count).contains(address) else {
                throw .invalidArgument("\(address) is listed twice")
            }
            hosts.append(host)
        }
        let masterCount = addresses.count / (replicas + 1)
        guard masterCount >= 3 else { throw .tooFewMasters(nodes: addresses.count, replicas: replicas) }

        let interleaved = interleave(hosts)
        let masters = Array(interleaved.prefix(masterCount))
        var spare: [Int] = Array(interleaved.dropFirst(masterCount))
        if !spare.isEmpty {
            // redis-cli rotates the spares by one before assigning them.
            spare.append(spare.removeFirst())
        }

        var masterOf: [Int: Int] = [:]
        var order: [Int] = []
        for pass in 0..<2 {
            for master in masters {
                let wanted = pass == 0 ? replicas : 1
                for _ in 0..<wanted where !spare.isEmpty {
                    let pick = spare.firstIndex { hosts[$0] != hosts[master] } ?? 0
                    let replica = spare.remove(at: pick)
                    masterOf[replica] = master
                    order.append(replica)
                }
            }
            if spare.isEmpty { break }
        }
        optimiseAntiAffinity(&masterOf, order: order, hosts: hosts)

        let slotRanges = split(masterCount)
        let planned = zip(masters, slotRanges).map { CreatePlan.Master(address: addresses[$0], slots: $1) }
            + spare.map { CreatePlan.Master(address: addresses[$0], slots: SlotSet()) }
        // Replicas grouped by master (in master order), each group in assignment order.
        let replicaPlan = masters.flatMap { master in
            order.filter { masterOf[$0] == master }
                .map { CreatePlan.Replica(address: addresses[$0], masterAddress: addresses[master]) }
        }
        return CreatePlan(masters: planned, replicas: replicaPlan)
    }

    /// redis-cli's `slots_per_node` / `cursor` split, in single precision with `lround`.
    private static func split(_ masterCount: Int) -> [SlotSet] {
        let perNode = Float(HashSlot.count) / Float(masterCount)
        var cursor: Float = 0
        var first = 0
        var result: [SlotSet] = []
        for index in 0..<masterCount {
            var last = Int(Double(cursor + perNode - 1).rounded(.toNearestOrAwayFromZero))
            if last > HashSlot.count || index == masterCount - 1 { last = HashSlot.count - 1 }
            if last < first { last = first }
            result.append(SlotSet(ranges: [first...last]))
            first = last + 1
            cursor += perNode
        }
        return result
    }

    /// Node indices taken round-robin from per-host queues, hosts in first-seen order.
    private static func interleave(_ hosts: [String]) -> [Int] {
        var hostOrder: [String] = []
        var queues: [String: [Int]] = [:]
        for (index, host) in hosts.enumerated() {
            if queues[host] == nil { hostOrder.append(host) }
            queues[host, default: []].append(index)
        }
        var result: [Int] = []
        while result.count < hosts.count {
            for host in hostOrder where !(queues[host] ?? []).isEmpty {
                result.append(queues[host]!.removeFirst())
            }
        }
        return result
    }

    /// redis-cli's anti-affinity score: per host, 10000 for every node sharing it with its master, and
    /// the group size for several replicas of one master sharing a host without it.
    private static func score(_ masterOf: [Int: Int], hosts: [String]) -> Int {
        var groups: [String: [Int: (master: Bool, size: Int)]] = [:]
        for (node, host) in hosts.enumerated() {
            let key = masterOf[node] ?? node
            var group = groups[host, default: [:]][key] ?? (false, 0)
            group.size += 1
            if masterOf[node] == nil { group.master = true }
            groups[host, default: [:]][key] = group
        }
        return groups.values.flatMap(\.values).reduce(0) { total, group in
            guard group.size >= 2 else { return total }
            return total + (group.master ? 10000 * (group.size - 1) : group.size)
        }
    }

    private static func optimiseAntiAffinity(_ masterOf: inout [Int: Int], order: [Int], hosts: [String]) {
        var current = score(masterOf, hosts: hosts)
        var improved = true
        while current > 0, improved {
            improved = false
            search: for replica in order {
                for other in order where masterOf[other] != masterOf[replica] {
                    masterOf.swapAt(replica, other)
                    let candidate = score(masterOf, hosts: hosts)
                    if candidate < current {
                        current = candidate
                        improved = true
                        break search
                    }
                    masterOf.swapAt(replica, other)
                }
            }
        }
    }

    /// The host part of `host:port` / `[v6]:port`, or nil when the port is missing or invalid.
    private static func host(of address: String) -> String? {
        guard let colon = address.lastIndex(of: ":"),
              let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        }
        return host.isEmpty ? nil : String(host)
    }
}

private extension Dictionary where Key == Int, Value == Int {
    mutating func swapAt(_ a: Int, _ b: Int) {
        (self[a], self[b]) = (self[b], self[a])
    }
}
