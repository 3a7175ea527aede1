import Glibc

/// A system call failed for a reason other than "interrupted" or "would block".
struct SystemCallError: Error, CustomStringConvertible {
    let call: StaticString
    let errno: Int32

    var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
