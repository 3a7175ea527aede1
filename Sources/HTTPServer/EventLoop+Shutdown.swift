extension EventLoop {
    /// Stops accepting at once, closes connections that sit between requests, and tells parked and streamed
    /// requests to finish. In-flight requests carry on; their responses say `Connection: close`.
    func shutDownConnections() {
        stopping = true
        acceptResumes = nil
        listener?.close()
        listener = nil
        for connection in table.withLock({ $0.all }) {
            connection.shutDown()
        }
    }

    /// The shutdown grace has passed: every connection goes, whatever it is doing.
    func forceCloseConnections() {
        let connections = table.withLock { $0.all }
        for connection in connections {
            connection.forceClose()
        }
        if !connections.isEmpty {
            configuration.log("shutdown grace elapsed; closed \(connections.count) connection(s) with requests in flight")
        }
    }
}
