import Glibc

extension Socket {
    /// A listening socket bound with SO_REUSEADDR so a restart doesn't wait out TIME_WAIT.
    static func listen(host: String, port: UInt16) throws(HTTPServerError) -> Socket {
        guard case (var storage, let length)? = address(host: host, port: port) else { throw .invalidAddress(host) }
        let listenAddress = Self.display(host: host, port: port)
        let descriptor = socket(
            Int32(storage.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw .systemCall(call: "socket", address: listenAddress, errno: errno) }
        let socket = Socket(descriptor: descriptor)
        var one: Int32 = 1
        guard setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let code = errno
            socket.close()
            throw .systemCall(call: "setsockopt", address: listenAddress, errno: code)
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            socket.close()
            throw .systemCall(call: "bind", address: listenAddress, errno: code)
        }
        guard Glibc.listen(descriptor, SOMAXCONN) == 0 else {
            let code = errno
            socket.close()
            throw .systemCall(call: "listen", address: listenAddress, errno: code)
        }
        return socket
    }

    var localPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return 0 }
        return Self.describe(storage).port
    }

    /// Accepts a pending connection, non-blocking, close-on-exec and with Nagle off; `.wouldBlock` when none is left.
    func accept() throws(SystemCallError) -> IOResult<(socket: Socket, remoteAddress: String)> {
        var storage = sockaddr_storage()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let accepted: IOResult<Int32>
            do throws(SystemCallError) {
                accepted = try withUnsafeMutableBytes(of: &storage) { address throws(SystemCallError) in
                    try SystemCall.nonBlocking("accept4") {
                        LinuxCalls.shared.accept4(
                            descriptor, address.baseAddress, &length,
                            Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                    }
                }
            } catch where error.errno == ECONNABORTED || error.errno == EPROTO {
                // The peer gave up before we got to it: nothing to report, take the next one.
                continue
            }
            switch accepted {
            case .wouldBlock:
                return .wouldBlock
            case .done(let client):
                var one: Int32 = 1
                _ = setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let (host, port) = Self.describe(storage)
                return .done((Socket(descriptor: client), Self.display(host: host, port: port)))
            }
        }
    }

    /// Reads what is there; `.done(0)` means the peer closed its side.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> IOResult<Int> {
        try SystemCall.nonBlocking("recv") { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
    }

    /// Writes what the socket takes now.
    func send(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) -> IOResult<Int> {
        // MSG_NOSIGNAL: a peer that went away must yield EPIPE, not kill the process with SIGPIPE.
        try SystemCall.nonBlocking("send") {
            Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
    }

    /// Sends our FIN while still letting us read what the peer had in flight.
    func shutdownWrite() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Makes every pending and later read and write on the socket fail at once, without freeing the descriptor
    /// (its owner may still be using the number).
    func shutdownBoth() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
    }

    func close() {
        // Not retried on EINTR: on Linux the descriptor is released even then.
        _ = Glibc.close(descriptor)
    }

    private static func address(host: String, port: UInt16) -> (sockaddr_storage, socklen_t)? {
        var literal = host == "localhost" ? "127.0.0.1" : host
        if literal.hasPrefix("["), literal.hasSuffix("]") {
            literal = String(literal.dropFirst().dropLast())
        }
        var storage = sockaddr_storage()
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, literal, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeBytes(of: v4) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, literal, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeBytes(of: v6) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        return nil
    }

    private static func describe(_ storage: sockaddr_storage) -> (host: String, port: UInt16) {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var ip = address.pointee.sin_addr
                    inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
                    return (String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        UInt16(bigEndian: address.pointee.sin_port))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var ip = address.pointee.sin6_addr
                    inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
                    return (String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        UInt16(bigEndian: address.pointee.sin6_port))
                }
            }
        default:
            return ("unknown", 0)
        }
    }
}
