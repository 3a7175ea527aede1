import HTTPServer
import Service
import Store

/// Typed reads of query parameters; a malformed value is a 400 naming the parameter. Values are read exactly as
/// openapi.yaml writes them (no sign, no hex, no spaces), so what the spec refuses the server refuses too.
struct QueryParameters {
    let request: HTTPRequest

    func string(_ name: String) -> String? { request.query(name) }

    func int(_ name: String, in range: ClosedRange<Int>) throws(HTTPError) -> Int? {
        guard let text = request.query(name) else { return nil }
        guard Self.isInteger(text), let value = Int(text), range.contains(value) else {
            throw HTTPError(400, "query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws(HTTPError) -> Double? {
        guard let text = request.query(name) else { return nil }
        guard Self.isNumber(text), let value = Double(text), value.isFinite, range.contains(value) else {
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

    /// A cluster id as registration admits it.
    func clusterId(_ name: String) throws(HTTPError) -> String? {
        guard let text = request.query(name) else { return nil }
        guard ClusterService.isValidId(text) else {
            throw HTTPError(400, "query parameter '\(name)' must be a cluster id (^[a-z0-9][a-z0-9-]{0,62}$)")
        }
        return text
    }

    /// Cursors are the id of the last item of the previous page: 1 to 18 digits, no leading zero.
    func cursor() throws(HTTPError) -> Int64? {
        guard let text = request.query("cursor") else { return nil }
        guard let value = Self.positiveId(text) else {
            throw HTTPError(400, "query parameter 'cursor' is not a cursor this API gave out")
        }
        return value
    }

    /// `^[1-9][0-9]{0,17}$`: the ids this API gives out (jobs, snapshots, cursors).
    static func positiveId(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        guard (1...18).contains(bytes.count), bytes[0] != UInt8(ascii: "0"), bytes.allSatisfy(isDigit) else { return nil }
        return Int64(text)
    }

    /// `-?(0|[1-9][0-9]*)`
    static func isInteger(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard let first = bytes.first, bytes.allSatisfy(isDigit) else { return false }
        return first != UInt8(ascii: "0") || bytes.count == 1
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isNumber(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}
