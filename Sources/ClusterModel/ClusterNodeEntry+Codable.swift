extension ClusterNodeEntry: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, host, port, busPort, hostname, flags, masterId, pingSent, pongReceived, configEpoch, linkState
        case slots, importing, migrating
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            host: try c.decode(String.self, forKey: .host),
            port: try c.decode(Int.self, forKey: .port),
            busPort: try c.decodeIfPresent(Int.self, forKey: .busPort),
            hostname: try c.decodeIfPresent(String.self, forKey: .hostname),
            flags: try c.decode([String].self, forKey: .flags),
            masterId: try c.decodeIfPresent(String.self, forKey: .masterId),
            pingSent: try c.decode(Int64.self, forKey: .pingSent),
            pongReceived: try c.decode(Int64.self, forKey: .pongReceived),
            configEpoch: try c.decode(Int64.self, forKey: .configEpoch),
            linkState: try c.decode(String.self, forKey: .linkState),
            slots: try c.decode(SlotSet.self, forKey: .slots),
            importing: SlotPeer.map(try c.decode([SlotPeer].self, forKey: .importing)),
            migrating: SlotPeer.map(try c.decode([SlotPeer].self, forKey: .migrating)))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(host, forKey: .host)
        try c.encode(port, forKey: .port)
        try c.encodeIfPresent(busPort, forKey: .busPort)
        try c.encodeIfPresent(hostname, forKey: .hostname)
        try c.encode(flags, forKey: .flags)
        try c.encodeIfPresent(masterId, forKey: .masterId)
        try c.encode(pingSent, forKey: .pingSent)
        try c.encode(pongReceived, forKey: .pongReceived)
        try c.encode(configEpoch, forKey: .configEpoch)
        try c.encode(linkState, forKey: .linkState)
        try c.encode(slots, forKey: .slots)
        try c.encode(SlotPeer.list(importing), forKey: .importing)
        try c.encode(SlotPeer.list(migrating), forKey: .migrating)
    }
}
