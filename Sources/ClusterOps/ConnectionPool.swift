import Foundation
import RESP

/// Idle, authenticated connections kept per node, credentials and TLS configuration, so a job's steps, its convergence polls and
/// the API's topology reads reuse them instead of paying connect + AUTH every time.
///
/// Thread-safe: `lock` guards `idle` and `lastSweep`. An idle connection belongs to the pool; a checked-out one belongs to the
/// one thread that took it until it is checked in. Credentials and TLS are part of the key, so a connection
/// authenticated (or verified) for one cluster is never handed to another that happens to share an address. Only healthy
/// connections come back: one that saw a transport error, timeout or protocol error is closed by
/// `RedisConnection` itself, and `checkin` drops closed ones.
public final class ConnectionPool: @unchecked Sendable {
    /// Idle connections kept per (endpoint, credentials, TLS); extra ones are closed on check-in.
    public let maxIdlePerKey: Int
    /// An idle connection older than this is closed instead of reused.
    public let idleExpiry: Duration

    private struct Key: Hashable {
        var endpoint: RedisEndpoint
        var credentials: RedisCredentials?
        var tls: TLSConfiguration?
    }

    private struct Idle {
        var connection: RedisConnection
        var since: ContinuousClock.Instant
    }

    private let lock = NSLock()
    private var idle: [Key: [Idle]] = [:]
    private var lastSweep = ContinuousClock.now

    public init(maxIdlePerKey: Int = 4, idleExpiry: Duration = .seconds(60)) {
        self.maxIdlePerKey = maxIdlePerKey
        self.idleExpiry = idleExpiry
    }

    deinit {
        idle.values.joined().forEach { $0.connection.close() }
    }

    /// An idle connection to `endpoint` authenticated with `credentials` over `tls` (nil: plain TCP), or a new one.
    public func checkout(_ endpoint: RedisEndpoint, credentials: RedisCredentials?, tls: TLSConfiguration? = nil,
                         connectTimeout: Double, readTimeout: Double) throws(RedisError) -> RedisConnection {
        let key = Key(endpoint: endpoint, credentials: credentials, tls: tls)
        while let connection = takeIdle(key) {
            // The server may have closed it while it sat idle (restart, client timeout): never send into that.
            guard connection.isReusable else {
                connection.close()
                continue
            }
            connection.readTimeout = readTimeout
            return connection
        }
        return try RedisConnection(endpoint: endpoint, credentials: credentials, tls: tls, connectTimeout: connectTimeout,
                                   readTimeout: readTimeout)
    }

    /// Takes back a connection from its owner, who must not use it again. Closed or unhealthy ones are dropped.
    public func checkin(_ connection: RedisConnection) {
        guard connection.isReusable else {
            connection.close()
            return
        }
        let key = Key(endpoint: connection.endpoint, credentials: connection.credentials, tls: connection.tls)
        let now = ContinuousClock.now
        var surplus: [RedisConnection] = []
        lock.lock()
        idle[key, default: []].append(Idle(connection: connection, since: now))
        if let count = idle[key]?.count, count > maxIdlePerKey {
            surplus += idle[key]!.prefix(count - maxIdlePerKey).map(\.connection)
            idle[key]!.removeFirst(count - maxIdlePerKey)
        }
        surplus += expired(now)
        lock.unlock()
        surplus.forEach { $0.close() }
    }

    /// Idle connections held now, over all keys.
    public var idleCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return idle.values.reduce(0) { $0 + $1.count }
    }

    /// Closes every idle connection (checked-out ones are unaffected and may still be checked in).
    public func closeIdle() {
        lock.lock()
        let all = idle.values.joined().map(\.connection)
        idle.removeAll()
        lock.unlock()
        all.forEach { $0.close() }
    }

    /// The most recently used idle connection for `key` (the likeliest to be alive), if any fresh one is left.
    private func takeIdle(_ key: Key) -> RedisConnection? {
        let now = ContinuousClock.now
        lock.lock()
        var stale = expired(now)
        var taken: RedisConnection?
        while taken == nil, let entry = idle[key]?.popLast() {
            if now - entry.since < idleExpiry {
                taken = entry.connection
            } else {
                stale.append(entry.connection)
            }
        }
        if idle[key]?.isEmpty == true { idle[key] = nil }
        lock.unlock()
        stale.forEach { $0.close() }
        return taken
    }

    /// Removes expired connections from every key, at most a few times per expiry period; the caller holds
    /// `lock` and closes what this returns after unlocking.
    private func expired(_ now: ContinuousClock.Instant) -> [RedisConnection] {
        guard now - lastSweep >= idleExpiry / 4 else { return [] }
        lastSweep = now
        var stale: [RedisConnection] = []
        for key in Array(idle.keys) {
            let entries = idle[key] ?? []
            let fresh = entries.filter { now - $0.since < idleExpiry }
            guard fresh.count < entries.count else { continue }
            stale += entries.filter { now - $0.since >= idleExpiry }.map(\.connection)
            idle[key] = fresh.isEmpty ? nil : fresh
        }
        return stale
    }
}
