extension EventLoop {
    /// Stops accepting at once, closes connections that sit between requests, and tells parked and streamed
    /// requests to finish. In-flight requests carry on; their responses say `Connection: close`.
    func shutDownConnections() {
        stopping = true
        acceptResumes = nil
        listener?.close()
        listener = nil
        forEachConnection { connection in
            switch connection.state.withLock({ $0.phase }) {
            case .reading:
                // Loop-owned, so its parser is the loop's to look at.
                if !connection.parser.hasPartialRequest {
                    connection.close()
                }
            case .parked, .streaming:
                connection.interruptForShutdown()
            case .handling, .writing, .lingering, .closed:
                break
            }
        }
    }

    /// The shutdown grace has passed: every connection goes, whatever it is doing.
    func forceCloseConnections() {
        var count = 0
        forEachConnection { connection in
            count += 1
            connection.forceClose()
        }
        if count > 0 {
            configuration.log("shutdown grace elapsed; closed \(count) connection(s) with requests in flight")
        }
    }

    /// Visits the open connections; `body` may close the one it is given.
    func forEachConnection(_ body: (Connection) -> Void) {
        var index = 0
        while index < connections.count {
            if let connection = connections[index] {
                body(connection)
            }
            index += 1
        }
    }
}
