extension SlotSet {
    public func union(_ other: SlotSet) -> SlotSet {
        SlotSet(ranges: ranges + other.ranges)
    }

    public func intersection(_ other: SlotSet) -> SlotSet {
        // Both inputs are sorted and disjoint, so a linear merge suffices.
        var result: [ClosedRange<Int>] = []
        var i = 0
        var j = 0
        while i < ranges.count, j < other.ranges.count {
            let a = ranges[i]
            let b = other.ranges[j]
            let low = max(a.lowerBound, b.lowerBound)
            let high = min(a.upperBound, b.upperBound)
            if low <= high {
                result.append(low...high)
            }
            if a.upperBound < b.upperBound {
                i += 1
            } else {
                j += 1
            }
        }
        return SlotSet(ranges: result)
    }

    public func subtracting(_ other: SlotSet) -> SlotSet {
        var result: [ClosedRange<Int>] = []
        var j = 0
        for range in ranges {
            var start = range.lowerBound
            while j < other.ranges.count, other.ranges[j].upperBound < start {
                j += 1
            }
            var k = j
            while k < other.ranges.count, other.ranges[k].lowerBound <= range.upperBound, start <= range.upperBound {
                let cut = other.ranges[k]
                if cut.lowerBound > start {
                    result.append(start...(cut.lowerBound - 1))
                }
                start = max(start, cut.upperBound + 1)
                k += 1
            }
            if start <= range.upperBound {
                result.append(start...range.upperBound)
            }
        }
        return SlotSet(ranges: result)
    }
}
