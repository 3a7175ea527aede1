import Glibc
import RESP

/// Resolves a host:port to the IP literal CLUSTER MEET requires.
enum RedisEndpointResolver {
    static func resolve(_ address: String) -> (ip: String, port: String)? {
        guard let endpoint = RedisEndpoint(address) else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, endpoint.host, &v4) == 1 || inet_pton(AF_INET6, endpoint.host, &v6) == 1 {
            return (endpoint.host, "\(endpoint.port)")
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        return (String(cString: buffer), "\(endpoint.port)")
    }
}
