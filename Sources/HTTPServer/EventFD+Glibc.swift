import Glibc

extension EventFD {
    static func make() throws(SystemCallError) -> EventFD {
        EventFD(descriptor: try SystemCall.checked("eventfd") { LinuxCalls.shared.eventFD(0, O_CLOEXEC | O_NONBLOCK) })
    }

    /// Adds to the counter; would-block means it is saturated, i.e. a wake-up is already pending.
    func signal() {
        var one: UInt64 = 1
        _ = try? SystemCall.nonBlocking("write") { Glibc.write(descriptor, &one, 8) }
    }

    /// Resets the counter so the level-triggered registration stops reporting it.
    func drain() {
        var count: UInt64 = 0
        _ = try? SystemCall.nonBlocking("read") { Glibc.read(descriptor, &count, 8) }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
