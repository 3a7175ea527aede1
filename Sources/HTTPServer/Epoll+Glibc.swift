import Glibc

extension Epoll {
    private static let oneShot: UInt32 = 1 << 30  // EPOLLONESHOT
    private static let add: Int32 = 1  // EPOLL_CTL_ADD
    private static let delete: Int32 = 2  // EPOLL_CTL_DEL
    private static let modify: Int32 = 3  // EPOLL_CTL_MOD

    // struct epoll_event is packed on x86_64 (12 bytes) and naturally aligned elsewhere (16 bytes).
    #if arch(x86_64)
    static let eventSize = 12
    private static let dataOffset = 4
    #else
    static let eventSize = 16
    private static let dataOffset = 8
    #endif

    static func make() throws(SystemCallError) -> Epoll {
        Epoll(descriptor: try SystemCall.checked("epoll_create1") { LinuxCalls.shared.epollCreate(O_CLOEXEC) })
    }

    /// Level-triggered and persistent: for the listener and the eventfds, which stay ready until drained.
    func watch(_ descriptor: Int32, token: UInt64, for interest: Interest) throws(SystemCallError) {
        try control(Self.add, descriptor, token: token, events: interest.rawValue)
    }

    /// A new connection, armed one-shot.
    func register(_ descriptor: Int32, token: UInt64, for interest: Interest) throws(SystemCallError) {
        try control(Self.add, descriptor, token: token, events: interest.rawValue | Self.oneShot)
    }

    /// Re-arms a one-shot registration with what its new phase waits for.
    func rearm(_ descriptor: Int32, token: UInt64, for interest: Interest) throws(SystemCallError) {
        try control(Self.modify, descriptor, token: token, events: interest.rawValue | Self.oneShot)
    }

    func unwatch(_ descriptor: Int32) throws(SystemCallError) {
        try control(Self.delete, descriptor, token: 0, events: 0)
    }

    /// Waits up to `timeout` (nil: until something happens) and decodes what is ready into `events`.
    func wait(
        into buffer: inout [UInt8],
        events: inout [Event],
        timeout: Duration?
    ) throws(SystemCallError) {
        events.removeAll(keepingCapacity: true)
        let capacity = Int32(buffer.count / Self.eventSize)
        let milliseconds = timeout?.pollMilliseconds ?? -1
        let count = try buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(SystemCallError) in
                try SystemCall.nonBlocking("epoll_wait") {
                    LinuxCalls.shared.epollWait(descriptor, bytes.baseAddress, capacity, milliseconds)
                }
            }
        }.get()
        guard case .done(let ready) = count else { return }
        buffer.withUnsafeBytes { bytes in
            for index in 0..<Int(ready) {
                let offset = index * Self.eventSize
                events.append(
                    Event(
                        token: bytes.loadUnaligned(fromByteOffset: offset + Self.dataOffset, as: UInt64.self),
                        flags: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            }
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    private func control(_ operation: Int32, _ target: Int32, token: UInt64, events: UInt32) throws(SystemCallError) {
        // 16 bytes of stack covers either layout of struct epoll_event.
        var event: (UInt64, UInt64) = (0, 0)
        _ = try withUnsafeMutableBytes(of: &event) { bytes throws(SystemCallError) in
            bytes.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            bytes.storeBytes(of: token, toByteOffset: Self.dataOffset, as: UInt64.self)
            return try SystemCall.checked("epoll_ctl") {
                LinuxCalls.shared.epollControl(self.descriptor, operation, target, bytes.baseAddress)
            }
        }
    }
}
