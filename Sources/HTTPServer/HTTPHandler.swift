/// Called on the connection's own thread for every well-formed request; mapping errors to responses is its job.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse
