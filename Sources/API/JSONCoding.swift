import Foundation
import HTTPServer
import Jobs

/// JSON bodies in the service's one dialect (see `JSONText`).
enum JSONCoding {
    static func response<T: Encodable>(_ status: Int, _ value: T) throws -> HTTPResponse {
        HTTPResponse.json(status, try JSONText.encode(value))
    }

    /// Stored JSON text (params, plans, topologies) back into a value, so responses nest it rather than quote it.
    static func value(ofStoredText text: String?) -> JSONValue {
        guard let text, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return .null }
        return value
    }
}
