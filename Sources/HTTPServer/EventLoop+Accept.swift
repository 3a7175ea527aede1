import Glibc

extension EventLoop {
    /// Bounds one round of accepting, so a burst of new connections can't starve the loop's other work.
    private static let acceptBatch = 256
    /// Connections over the cap that get their 503 at the same time; beyond this they are closed unanswered.
    private static let maxTurningAway = 64
    /// How long accepting pauses when the process is out of descriptors.
    private static let acceptPause = Duration.milliseconds(100)

    func acceptConnections() {
        guard let listener else { return }
        for _ in 0..<Self.acceptBatch {
            let accepted: IOResult<(socket: Socket, remoteAddress: String)>
            do {
                accepted = try listener.accept()
            } catch {
                switch error.errno {
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pauseAccepting(listener, error)
                default:
                    configuration.log("\(error)")
                }
                return
            }
            guard case .done(let client) = accepted else { return }
            admit(client.socket, remoteAddress: client.remoteAddress)
        }
    }

    func resumeAccepting() {
        acceptResumes = nil
        guard let listener else { return }
        do {
            try control.watch(listener.descriptor, token: listenerToken, for: .input)
        } catch {
            configuration.log("cannot resume accepting: \(error)")
        }
    }

    /// The listener stays readable while the backlog is full, so it leaves epoll until the sweep puts it back.
    private func pauseAccepting(_ listener: Socket, _ error: SystemCallError) {
        configuration.log("\(error); pausing accept for \(Self.acceptPause)")
        try? control.unwatch(listener.descriptor)
        acceptResumes = .now + Self.acceptPause
    }

    private func admit(_ socket: Socket, remoteAddress: String) {
        let cap = configuration.maxConnections
        let admitted = table.withLock { table -> (Connection.Admission, UInt64)? in
            let admission: Connection.Admission
            if table.served < cap {
                admission = .served
            } else if table.turningAway < Self.maxTurningAway {
                admission = .turnedAway
            } else {
                return nil
            }
            return (admission, table.makeToken(for: socket.descriptor))
        }
        guard let (admission, token) = admitted else {
            socket.close()
            return
        }
        // A turned-away connection starts out owned by this thread, which sends the 503; a served one waits for its
        // request, in the table before epoll can report it.
        let connection = Connection(
            socket: socket, remoteAddress: remoteAddress, token: token, admission: admission, loop: self)
        table.withLock { $0.insert(connection) }
        do {
            try epoll.register(socket.descriptor, token: token, for: admission == .served ? .input : [])
        } catch {
            configuration.log("cannot watch a new connection: \(error)")
            connection.close()
            return
        }
        if admission == .turnedAway {
            connection.turnAway()
        }
    }
}
