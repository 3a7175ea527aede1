/// What a non-blocking call did: it completed with a value, or it would have had to wait for the peer.
enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}
