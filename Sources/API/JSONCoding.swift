import Foundation
import HTTPServer

/// The one JSON dialect of the API: snake_case keys, sorted for stable output.
enum JSONCoding {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func response<T: Encodable>(_ status: Int, _ value: T) throws -> HTTPResponse {
        HTTPResponse.json(status, try encode(value))
    }

    /// Stored JSON text (params, plans, topologies) back into a value, so responses nest it rather than quote it.
    static func value(ofStoredText text: String?) -> JSONValue {
        guard let text, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return .null }
        return value
    }

    static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}
