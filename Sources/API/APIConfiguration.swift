/// Settings the API applies to every cluster it talks to.
public struct APIConfiguration: Sendable {
    /// Off by default: only loopback nodes may be registered or contacted.
    public var allowRemoteNodes: Bool
    public var connectTimeout: Double
    public var readTimeout: Double

    public init(allowRemoteNodes: Bool = false, connectTimeout: Double = 2, readTimeout: Double = 5) {
        self.allowRemoteNodes = allowRemoteNodes
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }
}
