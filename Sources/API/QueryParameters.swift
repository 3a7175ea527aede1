import HTTPServer
import Store

/// Typed reads of query parameters; a malformed value is a 400 naming the parameter.
struct QueryParameters {
    let request: HTTPRequest

    func string(_ name: String) -> String? { request.query(name) }

    func int(_ name: String, in range: ClosedRange<Int>) throws(HTTPError) -> Int? {
        guard let text = request.query(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(400, "query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws(HTTPError) -> Double? {
        guard let text = request.query(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw HTTPError(400, "query parameter '\(name)' must be a number from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
        }
        return value
    }

    func timestamp(_ name: String) throws(HTTPError) -> String? {
        guard let text = request.query(name) else { return nil }
        guard let normalised = Timestamp.normalise(text) else {
            throw HTTPError(400, "query parameter '\(name)' must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
        }
        return normalised
    }

    /// Cursors are the id of the last item of the previous page.
    func cursor() throws(HTTPError) -> Int64? {
        guard let text = request.query("cursor") else { return nil }
        guard let value = Int64(text), value > 0 else { throw HTTPError(400, "query parameter 'cursor' is not a cursor this API gave out") }
        return value
    }
}
