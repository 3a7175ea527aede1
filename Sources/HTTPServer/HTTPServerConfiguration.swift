import Foundation

/// Listen address, limits and timeouts; the defaults suit a service behind a trusted network edge.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 literal ("127.0.0.1", "::1", "0.0.0.0", "::"), or "localhost".
    public var host: String
    /// 0 picks an ephemeral port; read it back from `HTTPServer.port`.
    public var port: UInt16
    /// Request line plus headers; more answers 431 and closes.
    public var maxHeaderBytes: Int
    /// Declared or accumulated body; more answers 413 and closes.
    public var maxBodyBytes: Int
    /// Seconds from a request's first byte until its headers must be complete; then 408 and close.
    public var headerTimeout: Double
    /// Seconds from the end of the headers until the body must be complete; also bounds writing a response.
    public var bodyTimeout: Double
    /// Seconds a keep-alive connection may sit idle before it is closed without a response.
    public var idleTimeout: Double
    /// Connections beyond this get a 503 (with `Retry-After`) and are closed. Each open connection costs a
    /// descriptor and a small buffer, not a thread; `start()` raises the descriptor limit to make room.
    public var maxConnections: Int
    /// Threads that serve connections with input and run their handlers. About one per core waits for input at a
    /// time; the rest are spares that step in while handlers block (on a database, on a remote server), which is why
    /// there are several per core. Waits that last (long polls, streams) should use `HTTPResponse.deferred`, which
    /// holds no thread. Accepting and timeouts never wait for these threads.
    public var handlerThreads: Int
    /// Seconds `shutdown()` waits for in-flight requests before closing their connections.
    public var shutdownGrace: Double
    /// Receives access-log lines and server errors, one line per call.
    public var log: @Sendable (String) -> Void

    public init(
        host: String = "127.0.0.1",
        port: UInt16 = 8080,
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int = 1 << 20,
        headerTimeout: Double = 10,
        bodyTimeout: Double = 30,
        idleTimeout: Double = 60,
        maxConnections: Int = 4096,
        handlerThreads: Int = HTTPServerConfiguration.defaultHandlerThreads,
        shutdownGrace: Double = 10,
        log: @escaping @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    ) {
        self.host = host
        self.port = port
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.handlerThreads = handlerThreads
        self.shutdownGrace = shutdownGrace
        self.log = log
    }

    /// Four per core, and at least sixteen. Only about one per core is active while handlers don't block; a spare
    /// costs a parked thread. Sixteen keeps a small machine serving while several handlers block at once.
    public static var defaultHandlerThreads: Int {
        max(16, 4 * ProcessInfo.processInfo.activeProcessorCount)
    }
}
