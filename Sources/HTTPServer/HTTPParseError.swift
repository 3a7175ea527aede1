/// Why bytes could not be read as a request; `status` is what the server answers before closing the connection.
public struct HTTPParseError: Error, Sendable, Equatable {
    public var status: Int
    public var detail: String

    public init(status: Int, detail: String) {
        self.status = status
        self.detail = detail
    }

    static func badRequest(_ detail: String) -> HTTPParseError {
        HTTPParseError(status: 400, detail: detail)
    }
}
