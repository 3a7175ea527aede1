/// An eventfd the loop watches, so other threads can interrupt its epoll_wait (LoopWakeup+Glibc.swift).
struct LoopWakeup: Sendable {
    let descriptor: Int32
}
