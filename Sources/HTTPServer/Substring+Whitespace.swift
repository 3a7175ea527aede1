extension Substring {
    /// Without optional whitespace (SP and HTAB, RFC 9110 §5.6.3) at either end.
    var trimmingOWS: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" {
            text.removeFirst()
        }
        while let last = text.last, last == " " || last == "\t" {
            text.removeLast()
        }
        return text
    }
}
