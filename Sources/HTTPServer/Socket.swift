/// A non-blocking stream socket descriptor; the syscalls live in Socket+Glibc.swift.
struct Socket: Sendable, Hashable {
    let descriptor: Int32

    /// "host:port", with an IPv6 host in brackets: how addresses appear in logs and errors.
    static func display(host: String, port: UInt16) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
