import Foundation
import HTTPServer
import Jobs

/// A request body as the JSON object the services read field by field.
enum RequestBody {
    static func object(_ request: HTTPRequest) throws(HTTPError) -> [String: JSONValue] {
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
        if let key = JSONDuplicateKeys.first(in: bytes) {
            throw HTTPError(400, "request body names '\(key.prefix(64))' twice in one object; each key may appear once")
        }
        return fields
    }
}
