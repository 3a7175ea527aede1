extension EventLoop {
    /// Fires the deadlines that have passed, and resumes a paused accept.
    func sweep(_ now: ContinuousClock.Instant) {
        if let resumes = acceptResumes, now >= resumes {
            resumeAccepting()
        }
        for connection in table.withLock({ $0.all }) {
            if let expired = connection.claimExpired(at: now) {
                connection.expire(expired)
            }
        }
    }
}
