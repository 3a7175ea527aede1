/// A parsed request, as handed to the handler.
public struct HTTPRequest: Sendable {
    /// As sent, e.g. "GET"; methods are case-sensitive.
    public var method: String
    /// The raw request-target.
    public var target: String
    /// Percent-decoded path without the query.
    public var path: String
    /// Percent-decoded query pairs in order, `+` read as space.
    public var queryItems: [(name: String, value: String)]
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Assigned by the server, or taken from a well-formed `X-Request-Id` header.
    public var requestID: String
    public var remoteAddress: String

    /// For in-process tests: path and query come from `target`; escapes that don't decode are kept as sent.
    public init(
        method: String,
        target: String,
        version: String = "HTTP/1.1",
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = []
    ) {
        let components = RequestTarget.components(of: target)
        let path = RequestTarget.decode(components.path, plusAsSpace: false) ?? String(components.path)
        let queryItems = components.query.map { RequestTarget.queryItems($0) ?? [] } ?? []
        self.init(
            method: method, target: target, version: version, headers: headers, body: body,
            path: path, queryItems: queryItems)
    }

    init(
        method: String,
        target: String,
        version: String,
        headers: HTTPHeaders,
        body: [UInt8],
        path: String,
        queryItems: [(name: String, value: String)]
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.queryItems = queryItems
        self.version = version
        self.headers = headers
        self.body = body
        self.requestID = RequestID.validated(headers["X-Request-Id"]) ?? RequestID.make()
        self.remoteAddress = ""
    }

    /// The last value given for `name`, so a later parameter overrides an earlier one.
    public func query(_ name: String) -> String? {
        queryItems.last { $0.name == name }?.value
    }
}
