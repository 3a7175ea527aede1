/// Encoded as normalised inclusive pairs, `[[0,1364],[5461,6826]]`: compact and readable in JSON.
extension SlotSet: Codable {
    public init(from decoder: any Decoder) throws {
        let pairs = try decoder.singleValueContainer().decode([[Int]].self)
        do {
            self = try SlotSet.validated(pairs)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(ranges.map { [$0.lowerBound, $0.upperBound] })
    }
}
