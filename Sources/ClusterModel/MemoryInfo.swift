/// A node's memory from `INFO memory`: what it uses, its `maxmemory` (0 for none) and the host's memory.
public struct MemoryInfo: Sendable, Equatable, Codable {
    public var usedMemory: Int64
    public var maxMemory: Int64
    public var totalSystemMemory: Int64

    public init(usedMemory: Int64, maxMemory: Int64, totalSystemMemory: Int64) {
        self.usedMemory = usedMemory
        self.maxMemory = maxMemory
        self.totalSystemMemory = totalSystemMemory
    }

    public static func parse(_ text: String) -> MemoryInfo? {
        let fields = InfoFields.parse(text)
        guard let used = fields["used_memory"].flatMap({ Int64($0) }) else { return nil }
        return MemoryInfo(usedMemory: used, maxMemory: fields["maxmemory"].flatMap { Int64($0) } ?? 0,
                          totalSystemMemory: fields["total_system_memory"].flatMap { Int64($0) } ?? 0)
    }

    /// What the node may hold: its maxmemory, else the host's memory (0 when it says neither).
    public var limit: Int64 { maxMemory > 0 ? maxMemory : totalSystemMemory }
    public var limitName: String { maxMemory > 0 ? "maxmemory" : "system memory" }
}
