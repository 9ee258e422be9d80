import Foundation

/// Human-readable numbers for terminal output.
enum Format {
    /// 31024896 → "31.02 M" (SI prefixes, for counts of parameters, MACs and FLOPs).
    static func count(_ value: Int) -> String {
        let v = Double(value)
        for (limit, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where abs(v) >= limit {
            return String(format: "%.2f %@", v / limit, suffix)
        }
        return String(value)
    }

    /// 1536 → "1.50 KiB".
    static func bytes(_ value: Int) -> String {
        let v = Double(value)
        for (limit, suffix) in [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] where abs(v) >= Double(limit) {
            return String(format: "%.2f %@", v / Double(limit), suffix)
        }
        return "\(value) B"
    }

    static func seconds(_ value: TimeInterval) -> String {
        value < 1 ? String(format: "%.0f ms", value * 1000) : String(format: "%.2f s", value)
    }

    /// 31024896 → "31,024,896".
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }

    /// Left-aligns the first column and right-aligns the rest.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Writes JSON for `--json` with sorted keys, so output is stable.
enum JSONOutput {
    /// `value` as pretty-printed JSON with sorted keys.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }

    static func print<T: Encodable>(_ value: T) throws {
        FileHandle.standardOutput.write(try encode(value))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

/// Progress and notes go to stderr; results go to stdout.
enum Stderr {
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }

    /// A line of progress for long work.
    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }
}

/// A failure that is not about the command line's syntax, so no usage text follows it.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
