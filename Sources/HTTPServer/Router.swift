import Foundation

/// Maps method and path to handlers and turns whatever they throw into problem+json responses.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse

    private var entries: [Route] = []
    private let log: @Sendable (String) -> Void

    /// Unexpected handler errors are logged to standard error.
    public init() {
        self.init(log: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) })
    }

    /// `log` receives the real text of unexpected handler errors, which clients never see.
    public init(log: @escaping @Sendable (String) -> Void) {
        self.log = log
    }

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        entries.append(Route(method: method, pattern: pattern, handler: handler))
    }

    public var routes: [(method: String, pattern: String)] {
        entries.map { (method: $0.method, pattern: $0.pattern) }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var pattern: String?
        return handle(request, matched: &pattern)
    }

    /// As `handle`, also telling which route's pattern answered (nil: no route matched), e.g. for metrics labelled
    /// by route template rather than by raw path.
    public func handle(_ request: HTTPRequest, matched pattern: inout String?) -> HTTPResponse {
        let rawPath = RequestTarget.components(of: request.target).path
        // Segments are split before decoding so an escaped "/" (%2F) stays inside its parameter.
        let segments = Route.split(rawPath).map { RequestTarget.decode($0, plusAsSpace: false) ?? String($0) }
        let matches = rawPath.hasPrefix("/")
            ? entries.compactMap { route in route.match(segments).map { (route: route, parameters: $0) } }
            : []
        guard !matches.isEmpty else {
            return .problem(HTTPError(404, "no resource at \(request.path)"))
        }
        let chosen = best(matches.filter { $0.route.method == request.method })
            ?? (request.method == "HEAD" ? best(matches.filter { $0.route.method == "GET" }) : nil)
        guard let (route, parameters) = chosen else {
            pattern = matches.first?.route.pattern
            let allowed = Self.allowedMethods(matches.map(\.route.method))
            let headers = HTTPHeaders([("Allow", allowed.joined(separator: ", "))])
            return .problem(HTTPError(405, "\(request.method) is not allowed on \(request.path)", headers: headers))
        }
        pattern = route.pattern
        do {
            return try route.handler(request, parameters)
        } catch let error as HTTPError {
            return .problem(error)
        } catch {
            log("request \(request.requestID) \(request.method) \(route.pattern) failed: \(error)")
            return .problem(HTTPError(500, "internal error (request \(request.requestID))"))
        }
    }

    private func best(
        _ matches: [(route: Route, parameters: RouteParameters)]
    ) -> (route: Route, parameters: RouteParameters)? {
        matches.reduce(nil) { best, candidate in
            guard let best, !candidate.route.isMoreSpecific(than: best.route) else { return best ?? candidate }
            return candidate
        }
    }

    /// Registration order without duplicates; HEAD is listed whenever GET is, since GET handlers serve it.
    private static func allowedMethods(_ methods: [String]) -> [String] {
        var allowed: [String] = []
        for method in methods where !allowed.contains(method) {
            allowed.append(method)
        }
        if let get = allowed.firstIndex(of: "GET"), !allowed.contains("HEAD") {
            allowed.insert("HEAD", at: get + 1)
        }
        return allowed
    }
}
