import Glibc
import HTTPServer

/// What every request passes before it is routed, so that a web page open in a browser on the same host cannot
/// drive the service (cross-site requests) or read its answers (DNS rebinding):
/// - `Host` must name the service: an IP literal (a rebinding attack needs a DNS name), `localhost`, the `--listen`
///   host, or a `--public-host` name; anything else is 421, a missing or repeated Host 400.
/// - A body must be `application/json` (415): a browser sends a cross-site form or `text/plain` without asking.
/// - An `Origin` other than the service's own (the Host it was asked by) is 403, unless listed in `--allowed-origins`.
public struct RequestGate: Sendable {
    /// Host names (lower case, without port) the service answers to besides IP literals and `localhost`.
    let hostNames: Set<String>
    /// Origins (`scheme://host[:port]`, lower case) allowed besides the service's own.
    let origins: Set<String>

    public init(listenHost: String? = nil, publicHosts: [String] = [], allowedOrigins: [String] = []) {
        hostNames = Set((["localhost"] + publicHosts + (listenHost.map { [$0] } ?? [])).map { $0.lowercased() })
        origins = Set(allowedOrigins.map { Self.trimmedOrigin($0) })
    }

    /// The refusal for `request`, or nil when it may be routed.
    func refusal(_ request: HTTPRequest) -> HTTPError? {
        let hosts = request.headers.values("Host")
        guard hosts.count == 1, let host = hosts.first?.trimmingCharacters(in: .whitespaces), !host.isEmpty else {
            return HTTPError(400, hosts.isEmpty ? "a Host header is required" : "send one Host header, not \(hosts.count)")
        }
        guard answers(to: host) else {
            return HTTPError(421, "this service does not answer to Host '\(host.prefix(255))'; add it with --public-host if it is a name "
                             + "the service is reached by")
        }
        let origins = request.headers.values("Origin")
        if origins.count > 1 { return HTTPError(400, "send one Origin header, not \(origins.count)") }
        if let origin = origins.first, !allows(origin: origin, host: host) {
            return HTTPError(403, "cross-origin request from '\(origin.prefix(255))' refused; a page served elsewhere may not use "
                             + "this service (list trusted origins with --allowed-origins)")
        }
        if !request.body.isEmpty {
            let type = request.headers["Content-Type"]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else {
                return HTTPError(415, "a request body must be sent as Content-Type: application/json, not '\((type ?? "none").prefix(100))' "
                                 + "(with curl: --json '{...}', or -H 'Content-Type: application/json')")
            }
        }
        return nil
    }

    /// An IP literal (v4, or v6 in brackets), or an allowed name; with or without a port.
    func answers(to host: String) -> Bool {
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let literal = String(name[name.index(after: name.startIndex)..<close])
            var v6 = in6_addr()
            let rest = name[name.index(after: close)...]
            return inet_pton(AF_INET6, literal, &v6) == 1 && (rest.isEmpty || Self.isPort(rest.dropFirst()) && rest.first == ":")
        }
        if let colon = name.lastIndex(of: ":") {
            guard Self.isPort(name[name.index(after: colon)...]) else { return false }
            name = name[..<colon]
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        var v4 = in_addr()
        return inet_pton(AF_INET, String(name), &v4) == 1 || hostNames.contains(String(name))
    }

    /// The service's own origin (its scheme and the Host it was asked by), or one listed.
    func allows(origin: String, host: String) -> Bool {
        let origin = Self.trimmedOrigin(origin)
        if origins.contains(origin) { return true }
        guard let separator = origin.range(of: "://") else { return false }
        let scheme = origin[..<separator.lowerBound]
        let authority = String(origin[separator.upperBound...])
        let host = host.lowercased()
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil
        return authority == host || defaultPort.map { authority + $0 == host || host + $0 == authority } == true
    }

    private static func trimmedOrigin(_ text: String) -> String {
        var origin = text.trimmingCharacters(in: .whitespaces).lowercased()
        while origin.hasSuffix("/") { origin.removeLast() }
        return origin
    }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
