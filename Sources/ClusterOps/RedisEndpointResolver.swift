import Glibc
import RESP

/// Resolves a host:port to the IP literal CLUSTER MEET requires. A name with several addresses (`localhost` as
/// 127.0.0.1 and ::1) resolves to the first one that accepts a connection on the port, so a node listening on one
/// loopback family only is still met where it listens.
enum RedisEndpointResolver {
    static func resolve(_ address: String) -> (ip: String, port: String)? {
        guard let endpoint = RedisEndpoint(address) else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, endpoint.host, &v4) == 1 || inet_pton(AF_INET6, endpoint.host, &v6) == 1 {
            return (endpoint.host, "\(endpoint.port)")
        }
        let candidates = addresses(of: endpoint)
        guard let first = candidates.first else { return nil }
        let chosen = candidates.count == 1 ? first : candidates.first { accepts($0, port: endpoint.port) } ?? first
        return (chosen, "\(endpoint.port)")
    }

    /// The distinct numeric addresses of a name, in the resolver's order.
    private static func addresses(of endpoint: RedisEndpoint) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var found: [String] = []
        var next = result
        while let entry = next {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(cString: buffer)
                if !found.contains(text) { found.append(text) }
            }
            next = entry.pointee.ai_next
        }
        return found
    }

    /// Whether `ip:port` accepts a TCP connection within a second.
    private static func accepts(_ ip: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(ip, "\(port)", &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, 1000) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0
    }
}

/// How a node named by a loopback host name is known once it is in a cluster.
public enum LoopbackName {
    /// `localhost:P` (or another name that resolves to a loopback address) as the IP literal the node answers on,
    /// which is what the cluster's nodes will call it once it has met them; any other address unchanged. Plans use
    /// it, so that what they expect matches what the nodes report.
    public static func canonical(_ address: String) -> String {
        guard let endpoint = RedisEndpoint(address), endpoint.isLoopback,
              let resolved = RedisEndpointResolver.resolve(address),
              let port = Int(resolved.port)
        else { return address }
        let literal = RedisEndpoint(host: resolved.ip, port: port)
        return literal.isLoopback ? literal.description : address
    }
}
