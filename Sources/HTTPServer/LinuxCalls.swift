/// The Linux calls the event loop needs beyond what Glibc's Swift module exports: that module map leaves out
/// sys/epoll.h and sys/eventfd.h, and accept4 needs _GNU_SOURCE. This target has no C shim, so they are looked up
/// in the C library once, by name, and called through their C signatures (LinuxCalls+Glibc.swift).
struct LinuxCalls: Sendable {
    typealias EpollCreate = @convention(c) @Sendable (Int32) -> Int32
    typealias EpollControl = @convention(c) @Sendable (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWait = @convention(c) @Sendable (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) @Sendable (UInt32, Int32) -> Int32
    typealias Accept4 = @convention(c) @Sendable (
        Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt32>?, Int32
    ) -> Int32

    let epollCreate: EpollCreate
    let epollControl: EpollControl
    let epollWait: EpollWait
    let eventFD: EventFD
    let accept4: Accept4
}
