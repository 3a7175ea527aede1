import RESP

extension RedisError {
    /// The connection broke after the command may have been sent (closed, I/O error, timeout, garbled reply):
    /// the server may or may not have carried it out. Error replies and failures to connect are not this.
    var isLostReply: Bool {
        switch self {
        case .connectionClosed, .io, .timeout, .protocolError: true
        default: false
        }
    }

    /// A deadline passed with no reply.
    var isTimeout: Bool {
        if case .timeout = self { return true }
        return false
    }

    /// BUSYKEY, answered by a node itself or relayed by a MIGRATE source from its target, which Redis words as
    /// "ERR Target instance replied with error: BUSYKEY ...".
    var isBusyKey: Bool {
        switch self {
        case .busyKey: true
        case .server(_, let message): message.contains("replied with error: BUSYKEY")
        default: false
        }
    }
}
