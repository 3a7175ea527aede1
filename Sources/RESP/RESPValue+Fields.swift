extension RESPValue {
    /// A RESP2 flat `[key, value, ...]` array or a RESP3 map (decoded to the same shape), as a dictionary of the
    /// values; nil for any other shape.
    public var fields: [String: RESPValue]? {
        guard let items = array, items.count % 2 == 0 else { return nil }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index < items.count {
            guard let key = items[index].string else { return nil }
            fields[key] = items[index + 1]
            index += 2
        }
        return fields
    }
}
