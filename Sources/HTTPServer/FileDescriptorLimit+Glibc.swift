import Glibc

extension FileDescriptorLimit {
    /// Raises the soft limit to the hard one: each open connection holds a descriptor, and soft limits (often 1024)
    /// are far below what the server is meant to hold. Returns the soft limit in force afterwards.
    @discardableResult
    static func raiseToHardLimit() -> Int {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return 0 }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                limits = raised
            }
        }
        return limits.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limits.rlim_cur)
    }
}
