import Foundation
import Glibc

/// Hands out loopback ports whose cluster-bus twin (port + 10000) is free too. Ports are checked by binding and
/// never handed out twice in one test process. Both stay below Linux's ephemeral range (32768+), where an
/// outgoing connection could take one between the check and redis-server's bind.
enum PortAllocator {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next = 10000 + Int(getpid() % 500) * 10

    static func redisPort() -> Int {
        lock.lock()
        defer { lock.unlock() }
        for _ in 0..<5000 {
            let port = next
            next = next >= 16990 ? 10000 : next + 1
            if isFree(port) && isFree(port + 10000) { return port }
        }
        fatalError("no free port pair in 10000-26999")
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
