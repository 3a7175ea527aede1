/// Plans stored before down shards (or dead members) were planned have no `downShards` (`forgetNodes`); they
/// decode with none, so a job that was running across an upgrade still resumes.
extension FixPlan: Codable {
    private enum CodingKeys: String, CodingKey {
        case continueMigrations, closeSlots, uncoveredSlots, downShards, unfixable, forgetNodes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        continueMigrations = try container.decode([Migration].self, forKey: .continueMigrations)
        closeSlots = try container.decode([Close].self, forKey: .closeSlots)
        uncoveredSlots = try container.decode(SlotSet.self, forKey: .uncoveredSlots)
        downShards = try container.decodeIfPresent([DownShard].self, forKey: .downShards) ?? []
        unfixable = try container.decode([Unfixable].self, forKey: .unfixable)
        forgetNodes = try container.decodeIfPresent([DeadMember].self, forKey: .forgetNodes) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(continueMigrations, forKey: .continueMigrations)
        try container.encode(closeSlots, forKey: .closeSlots)
        try container.encode(uncoveredSlots, forKey: .uncoveredSlots)
        try container.encode(downShards, forKey: .downShards)
        try container.encode(unfixable, forKey: .unfixable)
        try container.encode(forgetNodes, forKey: .forgetNodes)
    }
}
