/// A set of hash slots kept as sorted, disjoint, non-adjacent inclusive ranges,
/// so equal sets always have equal representations and 16384 slots cost a handful of ranges.
public struct SlotSet: Sendable, Equatable, Hashable {
    public private(set) var ranges: [ClosedRange<Int>]

    public init() {
        ranges = []
    }

    /// Sorts and merges overlapping or adjacent ranges; values are taken as given (see `validated`).
    public init(ranges: [ClosedRange<Int>]) {
        self.ranges = Self.normalised(ranges)
    }

    public init(_ slots: some Sequence<Int>) {
        self.init(ranges: slots.map { $0...$0 })
    }

    public static let all = SlotSet(ranges: [0...(HashSlot.count - 1)])

    /// Builds a set from user-supplied `[start, end]` pairs, rejecting anything outside 0...16383.
    public static func validated(_ pairs: [[Int]]) throws(ClusterModelError) -> SlotSet {
        var ranges: [ClosedRange<Int>] = []
        for pair in pairs {
            guard pair.count == 2 else {
                throw .invalidSlotRange("expected [start, end], got \(pair)")
            }
            let (start, end) = (pair[0], pair[1])
            guard start >= 0, end < HashSlot.count else {
                throw .invalidSlotRange("[\(start), \(end)] is outside 0...\(HashSlot.count - 1)")
            }
            guard start <= end else {
                throw .invalidSlotRange("[\(start), \(end)] starts after it ends")
            }
            ranges.append(start...end)
        }
        return SlotSet(ranges: ranges)
    }

    public var count: Int {
        ranges.reduce(0) { $0 + $1.count }
    }

    public var isEmpty: Bool {
        ranges.isEmpty
    }

    public func contains(_ slot: Int) -> Bool {
        // Binary search: sets are consulted per slot in planners and checks.
        var low = 0
        var high = ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let range = ranges[mid]
            if slot < range.lowerBound {
                high = mid - 1
            } else if slot > range.upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Every slot, ascending.
    public var slots: [Int] {
        ranges.flatMap { Array($0) }
    }

    /// The lowest `n` slots (all of them if there are fewer); redis-cli always gives away lowest slots first.
    public func first(_ n: Int) -> SlotSet {
        var remaining = max(n, 0)
        var taken: [ClosedRange<Int>] = []
        for range in ranges where remaining > 0 {
            let length = min(range.count, remaining)
            taken.append(range.lowerBound...(range.lowerBound + length - 1))
            remaining -= length
        }
        return SlotSet(normalisedRanges: taken)
    }

    /// The smallest slot, if any.
    public var lowest: Int? {
        ranges.first?.lowerBound
    }

    private init(normalisedRanges: [ClosedRange<Int>]) {
        ranges = normalisedRanges
    }

    private static func normalised(_ input: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        // CLUSTER NODES prints ranges sorted and merged already: then the input is kept as it is.
        if zip(input, input.dropFirst()).allSatisfy({ $0.upperBound + 1 < $1.lowerBound }) {
            return input
        }
        let sorted = input.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
