/// An eventfd registered in an epoll: a thread signals it to wake a thread waiting there (EventFD+Glibc.swift).
struct EventFD: Sendable {
    let descriptor: Int32
}
