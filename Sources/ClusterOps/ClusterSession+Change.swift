import RESP

extension ClusterSession {
    /// Sends a command that changes cluster state and is not safe to repeat (MEET, ADDSLOTSRANGE, FORGET,
    /// REPLICATE, RESET, FAILOVER, SET-CONFIG-EPOCH, BUMPEPOCH, CONFIG REWRITE...). It is sent once. When its
    /// reply is lost (the connection broke or timed out after the command may have reached the node), it is
    /// never resent blindly:
    /// - with `verify`, the node's state is re-read: true means the change took effect and the step goes on;
    ///   false means it did not, and the command is sent once more (and verified again if that reply is lost too);
    /// - with `verify` nil, nothing is resent and the caller checks the outcome itself (a failover's promotion
    ///   wait, for one).
    /// Error replies are thrown as they are: the node refused, which is not a lost reply.
    ///
    /// Returns the reply, or nil when it was lost (and, with `verify`, the change was seen to have taken effect).
    @discardableResult
    public func change(_ address: String, _ arguments: [String],
                       verify: (() throws(ClusterOpsError) -> Bool)?) throws(ClusterOpsError) -> RESPValue? {
        var sends = 0
        while true {
            sends += 1
            let lost: RedisError
            do {
                return try call(address, arguments, idempotent: false)
            } catch .redis(_, let error) where error.isLostReply {
                lost = error
            }
            guard let verify else { return nil }
            if try verify() { return nil }
            guard sends < 2 else { throw .redis(endpoint: address, lost) }
        }
    }
}
