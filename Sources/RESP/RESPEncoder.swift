/// Encodes commands as RESP arrays of bulk strings, the only request form Redis needs.
public enum RESPEncoder {
    public static func command(_ args: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(args.reduce(16) { $0 + $1.count + 16 })
        appendHeader(UInt8(ascii: "*"), args.count, to: &out)
        for arg in args {
            appendHeader(UInt8(ascii: "$"), arg.count, to: &out)
            out.append(contentsOf: arg)
            out.append(contentsOf: crlf)
        }
        return out
    }

    public static func command(_ args: [String]) -> [UInt8] {
        command(args.map { Array($0.utf8) })
    }

    private static let crlf: [UInt8] = [13, 10]

    private static func appendHeader(_ type: UInt8, _ count: Int, to out: inout [UInt8]) {
        out.append(type)
        out.append(contentsOf: String(count).utf8)
        out.append(contentsOf: crlf)
    }
}
