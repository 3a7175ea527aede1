import Foundation
import HTTPServer

/// A JSON object request body, read field by field so every mistake gets a 400 that names the field.
struct RequestBody {
    private let fields: [String: JSONValue]

    init(_ request: HTTPRequest, allowed: Set<String>) throws(HTTPError) {
        // The Content-Type is not enforced: `curl -d '{...}'` sends form-urlencoded, and that is how operators call us.
        let bytes = request.body.isEmpty ? Array("{}".utf8) : request.body
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw HTTPError(400, "request body is not valid JSON")
        }
        guard case .object(let fields) = value else {
            throw HTTPError(400, "request body must be a JSON object, not \(value.typeName)")
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw HTTPError(400, "unknown field '\(unknown)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        self.fields = fields
    }

    func has(_ name: String) -> Bool {
        if let value = fields[name], value != .null { return true }
        return false
    }

    func string(_ name: String) throws(HTTPError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw HTTPError(400, "field '\(name)' must be a string, not \(other.typeName)")
        }
    }

    func requiredString(_ name: String) throws(HTTPError) -> String {
        guard let value = try string(name) else { throw HTTPError(400, "field '\(name)' is required") }
        return value
    }

    func int(_ name: String) throws(HTTPError) -> Int? {
        switch fields[name] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard let int = Int(exactly: value) else { throw HTTPError(400, "field '\(name)' is out of range") }
            return int
        case .double(let value)? where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case let other?: throw HTTPError(400, "field '\(name)' must be an integer, not \(other.typeName)")
        }
    }

    func number(_ name: String) throws(HTTPError) -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        case let other?: throw HTTPError(400, "field '\(name)' must be a number, not \(other.typeName)")
        }
    }

    func bool(_ name: String) throws(HTTPError) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw HTTPError(400, "field '\(name)' must be a boolean, not \(other.typeName)")
        }
    }

    func stringArray(_ name: String) throws(HTTPError) -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let items)?:
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else {
                    throw HTTPError(400, "field '\(name)' must be an array of strings")
                }
                result.append(text)
            }
            return result
        case let other?: throw HTTPError(400, "field '\(name)' must be an array of strings, not \(other.typeName)")
        }
    }

    func raw(_ name: String) -> JSONValue? { fields[name] }
}
