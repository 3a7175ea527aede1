/// Called on one of the server's handler threads for every well-formed request; mapping errors to responses is its job.
/// A handler that must wait for something returns `HTTPResponse.deferred` rather than holding its thread.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse
