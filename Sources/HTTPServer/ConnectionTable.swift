/// The open connections by descriptor, with the counts the connection cap is checked against. Kept in the event
/// loop's lock: the loop adds, any thread removes, and handler threads look up the connection of an epoll event.
struct ConnectionTable {
    private var slots: [Connection?] = []
    private(set) var served = 0
    private(set) var turningAway = 0
    private var serial: UInt32 = 0

    var isEmpty: Bool { served + turningAway == 0 }

    /// A token for a new connection on `descriptor`: the descriptor and a serial, never 0 (kept for the loop's own
    /// descriptors), so an event for a closed descriptor can't reach its successor.
    mutating func makeToken(for descriptor: Int32) -> UInt64 {
        serial = serial == UInt32.max ? 1 : serial + 1
        return UInt64(serial) << 32 | UInt64(UInt32(bitPattern: descriptor))
    }

    mutating func insert(_ connection: Connection) {
        let index = Int(connection.socket.descriptor)
        if index >= slots.count {
            slots += repeatElement(nil, count: max(index + 1, 2 * slots.count) - slots.count)
        }
        slots[index] = connection
        switch connection.admission {
        case .served: served += 1
        case .turnedAway: turningAway += 1
        }
    }

    /// False if the connection was removed already.
    mutating func remove(_ connection: Connection) -> Bool {
        let index = Int(connection.socket.descriptor)
        guard index < slots.count, slots[index] === connection else { return false }
        slots[index] = nil
        switch connection.admission {
        case .served: served -= 1
        case .turnedAway: turningAway -= 1
        }
        return true
    }

    func connection(for token: UInt64) -> Connection? {
        let index = Int(UInt32(truncatingIfNeeded: token))
        guard index < slots.count, let connection = slots[index], connection.token == token else { return nil }
        return connection
    }

    var all: [Connection] {
        slots.compactMap { $0 }
    }
}
