extension EventLoop {
    /// Fires the deadlines of loop-owned connections that have passed, and resumes a paused accept.
    func sweep(_ now: ContinuousClock.Instant) {
        if let resumes = acceptResumes, now >= resumes {
            resumeAccepting()
        }
        forEachConnection { connection in
            let expired = connection.state.withLock { state -> Connection.Expiry? in
                guard let deadline = state.deadline, deadline <= now else { return nil }
                switch state.phase {
                case .reading, .writing, .lingering: return state.expiry
                case .handling, .parked, .streaming, .closed: return nil
                }
            }
            if let expired {
                connection.expire(expired)
            }
        }
    }
}
