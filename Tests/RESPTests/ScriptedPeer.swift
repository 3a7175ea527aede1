import Glibc

/// A loopback listener that plays a misbehaving server: the test accepts the
/// client's connection and writes whatever bytes it wants.
final class ScriptedPeer {
    let port: Int
    private let listener: Int32
    private var accepted: Int32 = -1

    struct Failed: Error {}

    init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failed() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { [listener] pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && getsockname(listener, address, &length) == 0
                    && listen(listener, 4) == 0
            }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        guard listening else {
            close(listener)
            throw Failed()
        }
    }

    deinit {
        if accepted >= 0 { close(accepted) }
        close(listener)
    }

    /// Takes the client connection the kernel already completed, then writes `bytes` to it.
    func acceptAndSend(_ bytes: [UInt8]) throws {
        accepted = accept(listener, nil, nil)
        guard accepted >= 0, send(accepted, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw Failed()
        }
    }
}
