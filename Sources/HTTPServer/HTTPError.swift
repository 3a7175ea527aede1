/// An error a route handler throws to answer with a problem+json response (RFC 9457) of that status.
public struct HTTPError: Error, Sendable {
    public var status: Int
    public var title: String
    public var detail: String
    public var type: String
    public var headers: HTTPHeaders

    public init(
        _ status: Int,
        _ detail: String,
        title: String? = nil,
        type: String = "about:blank",
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.status = status
        self.title = title ?? HTTPStatus.reasonPhrase(status)
        self.detail = detail
        self.type = type
        self.headers = headers
    }
}
