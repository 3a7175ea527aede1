import ClusterModel
import RESP

/// A JSON object request body, read field by field so every mistake is an error naming the field. Unknown fields
/// are refused up front: a typo must not silently fall back to a default. So is `null`: a field is given with a value
/// of its type, or left out for its default (as openapi.yaml says).
public struct RequestFields: Sendable {
    private let fields: [String: JSONValue]

    /// The longest node reference: a node id is 40 characters, an address at most `maxAddressLength`.
    public static let maxAddressLength = 261

    public init(_ fields: [String: JSONValue], allowed: Set<String>) throws(RequestFieldError) {
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw RequestFieldError("unknown field '\(unknown)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        if let null = fields.filter({ $0.value == .null }).keys.sorted().first {
            throw RequestFieldError("field '\(null)' must not be null; leave it out for its default")
        }
        self.fields = fields
    }

    public func has(_ name: String) -> Bool {
        if let value = fields[name], value != .null { return true }
        return false
    }

    public func raw(_ name: String) -> JSONValue? { fields[name] }

    public func string(_ name: String) throws(RequestFieldError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw RequestFieldError("field '\(name)' must be a string, not \(other.typeName)")
        }
    }

    public func requiredString(_ name: String) throws(RequestFieldError) -> String {
        guard let value = try string(name) else { throw RequestFieldError("field '\(name)' is required") }
        return value
    }

    public func int(_ name: String) throws(RequestFieldError) -> Int? {
        switch fields[name] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard let int = Int(exactly: value) else { throw RequestFieldError("field '\(name)' is out of range") }
            return int
        case .double(let value)? where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case let other?: throw RequestFieldError("field '\(name)' must be an integer, not \(other.typeName)")
        }
    }

    public func int(_ name: String, in range: ClosedRange<Int>) throws(RequestFieldError) -> Int? {
        guard let value = try int(name) else { return nil }
        guard range.contains(value) else {
            throw RequestFieldError("field '\(name)' must be \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    public func number(_ name: String) throws(RequestFieldError) -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        case let other?: throw RequestFieldError("field '\(name)' must be a number, not \(other.typeName)")
        }
    }

    public func bool(_ name: String) throws(RequestFieldError) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw RequestFieldError("field '\(name)' must be a boolean, not \(other.typeName)")
        }
    }

    public func stringArray(_ name: String) throws(RequestFieldError) -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let items)?:
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw RequestFieldError("field '\(name)' must be an array of strings") }
                result.append(text)
            }
            return result
        case let other?: throw RequestFieldError("field '\(name)' must be an array of strings, not \(other.typeName)")
        }
    }

    /// A node reference (40-hex id or host:port) as given; resolved against the topology when planning.
    public func nodeReference(_ name: String) throws(RequestFieldError) -> String {
        let text = try requiredString(name)
        guard Self.isNodeReference(text) else { throw RequestFieldError("field '\(name)' must name a node (40-hex id or host:port)") }
        return text
    }

    /// host:port, normalised (IPv6 bracketed).
    public func endpoint(_ name: String) throws(RequestFieldError) -> String {
        let text = try requiredString(name)
        guard let endpoint = Self.address(text) else { throw RequestFieldError("field '\(name)' must be host:port, not '\(text)'") }
        return endpoint.description
    }

    /// An address as requests give it, exactly what openapi.yaml's `Address` pattern admits: a host name or IPv4
    /// address of letters, digits, `.`, `_` and `-`, or an IPv6 address in brackets, then `:` and a port 1-65535
    /// without leading zeros; at most `maxAddressLength` characters.
    public static func address(_ text: String) -> RedisEndpoint? {
        guard text.utf8.count <= maxAddressLength, let endpoint = RedisEndpoint(text), endpoint.description == text else {
            return nil
        }
        let host = endpoint.host.utf8
        let allowed: (UInt8) -> Bool = endpoint.host.contains(":")
            ? { isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
            : { isLetterOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        return host.allSatisfy(allowed) ? endpoint : nil
    }

    /// A 40-hex node id (either case) or an `address`.
    public static func isNodeReference(_ text: String) -> Bool {
        let bytes = text.utf8
        if bytes.count == 40 && bytes.allSatisfy(isHexDigit) { return true }
        return address(text) != nil
    }

    /// An integer as JSON Schema counts one: 7 or 7.0.
    private static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let int): return Int(exactly: int)
        case .double(let double) where double.rounded() == double && abs(double) < 1e15: return Int(double)
        default: return nil
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }

    /// `[[first, last], ...]`, validated and normalised; a pair's bounds may come in either order ([9, 3] is 3-9).
    public func slotRanges(_ name: String) throws(RequestFieldError) -> SlotSet? {
        guard let value = fields[name], value != .null else { return nil }
        guard case .array(let items) = value, !items.isEmpty else {
            throw RequestFieldError("field '\(name)' must be a non-empty array of [first, last] pairs")
        }
        var pairs: [[Int]] = []
        for item in items {
            guard case .array(let bounds) = item, bounds.count == 2,
                  let a = Self.integer(bounds[0]), let b = Self.integer(bounds[1]) else {
                throw RequestFieldError("field '\(name)' must hold [first, last] pairs of integers")
            }
            pairs.append([min(a, b), max(a, b)])
        }
        do {
            return try SlotSet.validated(pairs)
        } catch {
            throw RequestFieldError("field '\(name)': \(error.description)")
        }
    }
}
