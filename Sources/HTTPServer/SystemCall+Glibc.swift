import Glibc

extension SystemCall {
    /// Runs `body` again when a signal interrupts it, reports EAGAIN/EWOULDBLOCK as `.wouldBlock`, and throws
    /// anything else with errno and the call's name.
    @inline(__always)
    static func nonBlocking<Result: FixedWidthInteger>(
        _ call: StaticString,
        _ body: () -> Result
    ) throws(SystemCallError) -> IOResult<Result> {
        while true {
            let result = body()
            if result >= 0 {
                return .done(result)
            }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SystemCallError(call: call, errno: code)
            }
        }
    }

    /// For calls that cannot block: only an interruption is retried.
    @inline(__always)
    static func checked<Result: FixedWidthInteger>(
        _ call: StaticString,
        _ body: () -> Result
    ) throws(SystemCallError) -> Result {
        while true {
            let result = body()
            if result >= 0 {
                return result
            }
            let code = errno
            guard code == EINTR else { throw SystemCallError(call: call, errno: code) }
        }
    }
}
