import Glibc

extension LinuxCalls {
    /// Resolved on first use; every one of these has been in glibc since 2.9, so a miss means a broken C library.
    static let shared = LinuxCalls(
        epollCreate: symbol("epoll_create1"),
        epollControl: symbol("epoll_ctl"),
        epollWait: symbol("epoll_wait"),
        eventFD: symbol("eventfd"),
        accept4: symbol("accept4"))

    private static func symbol<Function>(_ name: String) -> Function {
        // A null handle is RTLD_DEFAULT: the libc this process already loaded.
        guard let address = dlsym(nil, name) else { fatalError("the C library has no \(name)") }
        return unsafeBitCast(address, to: Function.self)
    }
}
