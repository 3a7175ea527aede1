/// A non-blocking stream socket descriptor; the syscalls live in Socket+Glibc.swift.
struct Socket: Sendable, Hashable {
    let descriptor: Int32
}
