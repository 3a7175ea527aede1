import Glibc

extension EventLoop {
    /// Bounds one round of accepting, so a burst of new connections can't starve the open ones.
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
            try epoll.watch(listener.descriptor, token: listenerToken, for: .input)
        } catch {
            configuration.log("cannot resume accepting: \(error)")
        }
    }

    /// The listener stays readable while the backlog is full, so it leaves epoll until the sweep puts it back.
    private func pauseAccepting(_ listener: Socket, _ error: SystemCallError) {
        configuration.log("\(error); pausing accept for \(Self.acceptPause)")
        try? epoll.unwatch(listener.descriptor)
        acceptResumes = .now + Self.acceptPause
    }

    private func admit(_ socket: Socket, remoteAddress: String) {
        let admission: Connection.Admission
        if served < configuration.maxConnections {
            admission = .served
        } else if turningAway < Self.maxTurningAway {
            admission = .turnedAway
        } else {
            socket.close()
            return
        }
        serial = serial == UInt32.max ? 1 : serial + 1
        let token = UInt64(serial) << 32 | UInt64(UInt32(bitPattern: socket.descriptor))
        do {
            try epoll.register(socket.descriptor, token: token, for: .input)
        } catch {
            configuration.log("cannot watch a new connection: \(error)")
            socket.close()
            return
        }
        let connection = Connection(
            socket: socket, remoteAddress: remoteAddress, token: token, admission: admission, loop: self)
        let index = Int(socket.descriptor)
        if index >= connections.count {
            connections += repeatElement(nil, count: max(index + 1, 2 * connections.count) - connections.count)
        }
        connections[index] = connection
        switch admission {
        case .served:
            served += 1
        case .turnedAway:
            turningAway += 1
            connection.turnAway()
        }
    }
}
