extension HTTPResponse {
    /// A response given later: the server hands `body` a responder right after the handler returns and holds no
    /// thread while it waits. Whatever is passed to `responder.respond(_:)` (or a stream opened with
    /// `responder.openStream`) is what the client gets.
    ///
    /// The value itself is a placeholder with status 0 (nothing is sent for it); a middleware that records statuses
    /// learns the real one only from what is passed to the responder.
    public static func deferred(_ body: @escaping @Sendable (HTTPResponder) -> Void) -> HTTPResponse {
        var response = HTTPResponse(status: 0)
        response.deferral = body
        return response
    }
}

extension HTTPResponse {
    /// Whether this is a `deferred` placeholder rather than the answer itself.
    public var isDeferred: Bool { deferral != nil }
}
