/// Importing/migrating maps are encoded as `[{slot, node}]` arrays because JSON keys must be strings.
extension TopologyNode: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, address, reachableAddress, role, masterId, slots, slotCount, keys, flags, linkState, configEpoch, reachable
        case clusterState, replicas, importing, migrating, error, server
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            address: try c.decode(String.self, forKey: .address),
            role: try c.decode(String.self, forKey: .role),
            masterId: try c.decodeIfPresent(String.self, forKey: .masterId),
            slots: try c.decode(SlotSet.self, forKey: .slots),
            keys: try c.decodeIfPresent(Int.self, forKey: .keys),
            flags: try c.decode([String].self, forKey: .flags),
            linkState: try c.decode(String.self, forKey: .linkState),
            configEpoch: try c.decode(Int64.self, forKey: .configEpoch),
            reachable: try c.decode(Bool.self, forKey: .reachable),
            clusterState: try c.decodeIfPresent(String.self, forKey: .clusterState),
            replicas: try c.decode([String].self, forKey: .replicas),
            importing: try c.decodeIfPresent([SlotPeer].self, forKey: .importing).map(SlotPeer.map),
            migrating: try c.decodeIfPresent([SlotPeer].self, forKey: .migrating).map(SlotPeer.map),
            error: try c.decodeIfPresent(String.self, forKey: .error),
            server: try c.decodeIfPresent(ServerVersion.self, forKey: .server))
        reachableAddress = try c.decodeIfPresent(String.self, forKey: .reachableAddress)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(address, forKey: .address)
        try c.encodeIfPresent(reachableAddress, forKey: .reachableAddress)
        try c.encode(role, forKey: .role)
        try c.encodeIfPresent(masterId, forKey: .masterId)
        try c.encode(slots, forKey: .slots)
        try c.encode(slotCount, forKey: .slotCount)
        try c.encodeIfPresent(keys, forKey: .keys)
        try c.encode(flags, forKey: .flags)
        try c.encode(linkState, forKey: .linkState)
        try c.encode(configEpoch, forKey: .configEpoch)
        try c.encode(reachable, forKey: .reachable)
        try c.encodeIfPresent(clusterState, forKey: .clusterState)
        try c.encode(replicas, forKey: .replicas)
        try c.encodeIfPresent(importing.map(SlotPeer.list), forKey: .importing)
        try c.encodeIfPresent(migrating.map(SlotPeer.list), forKey: .migrating)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(server, forKey: .server)
    }
}
