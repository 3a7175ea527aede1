/// Settings the worker applies to every job.
public struct WorkerConfiguration: Sendable {
    public var allowRemoteNodes: Bool
    public var connectTimeout: Double
    public var readTimeout: Double

    public init(allowRemoteNodes: Bool = false, connectTimeout: Double = 2, readTimeout: Double = 10) {
        self.allowRemoteNodes = allowRemoteNodes
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }
}
