/// The one place that turns a raw syscall result into `IOResult` or `SystemCallError`; see SystemCall+Glibc.swift.
enum SystemCall {}
