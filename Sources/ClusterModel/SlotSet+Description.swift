/// Formats like redis-cli does: `0-1364,5461-6826,12000`.
extension SlotSet: CustomStringConvertible {
    public var description: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}
