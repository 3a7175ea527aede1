/// Encoded as its "host:port" text, the form operators and Redis itself use.
extension RedisEndpoint: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let endpoint = RedisEndpoint(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "invalid endpoint '\(text)', expected host:port")
        }
        self = endpoint
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
