import Foundation
import Graph

/// NumPy's `.npy` array files (format versions 1, 2 and 3): a magic string, a header that is a
/// Python dict literal (`descr`, `fortran_order`, `shape`), then the elements in C order.
///
/// Reading accepts the numeric and boolean dtypes with any byte order marker (`<`, `>`, `=`, `|`;
/// big-endian data is swapped), and scalars (shape `()`). Fortran-ordered, structured, object and
/// string arrays are errors. Writing produces version 1 headers (version 2 when the header is
/// longer than 65535 bytes), padded so the data starts 64-byte aligned, as numpy does.
public enum NPY {
    /// Reads the array at `url`; the tensor is named after the file, without `.npy`.
    public static func read(contentsOf url: URL) throws(FormatError) -> Tensor {
        let path = url.path
        let data = try readFile(path)
        var name = url.lastPathComponent
        if name.hasSuffix(".npy") { name.removeLast(4) }
        return try decode(data, name: name, source: path, location: "")
    }

    /// Decodes the bytes of a `.npy` file into a tensor called `name`; `source` names the data in
    /// error messages.
    public static func decode(_ data: Data, name: String, source: String) throws(FormatError) -> Tensor {
        try decode(data, name: name, source: source, location: "")
    }

    /// The bytes of a `.npy` file holding `tensor`.
    public static func encode(_ tensor: Tensor) throws(FormatError) -> Data {
        var data = try header(for: tensor, source: "tensor '\(tensor.name)'")
        data.append(try elementBytes(of: tensor, source: "tensor '\(tensor.name)'"))
        return data
    }

    /// Writes `tensor` to `url` as a `.npy` file, atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws(FormatError) {
        var file = try AtomicFile(url)
        try file.write(try header(for: tensor, source: url.path))
        try file.write(try elementBytes(of: tensor, source: url.path))
        try file.commit()
    }

    /// numpy's dtype string for an element type (`<f4` for float32), or nil when numpy has none.
    public static func dtype(for elementType: ElementType) -> String? {
        switch elementType {
        case .float16: "<f2"
        case .float32: "<f4"
        case .float64: "<f8"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        case .uint16: "<u2"
        case .uint32: "<u4"
        case .uint64: "<u8"
        case .bool: "|b1"
        case .complex64: "<c8"
        case .complex128: "<c16"
        default: nil
        }
    }

    // MARK: Decoding

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Decodes `.npy` bytes. `location` ("entry 'x.npy'") prefixes messages when the bytes come
    /// from inside another file.
    static func decode(_ data: Data, name: String, source: String, location: String) throws(FormatError) -> Tensor {
        let prefix = location.isEmpty ? "" : location + ": "
        func failure(_ message: String) -> FormatError { FormatError(source: source, prefix + message) }

        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw failure(data.count < 8 && magic.starts(with: bytes.prefix(6))
                ? "truncated: \(data.count) bytes, shorter than the .npy preamble"
                : "not a .npy array (bad magic; expected \\x93NUMPY)")
        }
        let major = bytes[6], minor = bytes[7]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw failure(".npy format version \(major).\(minor) is not supported (1, 2 and 3 are)")
        }
        guard bytes.count >= 8 + lengthBytes else {
            throw failure("truncated: the header length field is missing")
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= data.count - headerStart else {
            throw failure("truncated: the header says it has \(headerLength) bytes, the data has \(data.count - headerStart) after the preamble")
        }
        let base = data.startIndex
        let headerBytes = data[(base + headerStart)..<(base + headerStart + headerLength)]
        // Versions 1 and 2 are latin-1, version 3 UTF-8; the keys and values we need are ASCII.
        let headerText = major == 3
            ? String(decoding: headerBytes, as: UTF8.self)
            : String(headerBytes.map { Character(Unicode.Scalar($0)) })
        let header: Header
        do {
            header = try Header.parse(headerText)
        } catch {
            throw failure("header: \(error.message)")
        }
        guard !header.fortranOrder else {
            throw failure("array '\(name)' is stored in Fortran order; only C order is supported (save np.ascontiguousarray(a))")
        }
        let dtype = try DType.parse(header.descr).get { failure("array '\(name)': \($0)") }
        // Zero dims are skipped in the overflow check, so that [0, 2^40, 2^40] — empty, but whose
        // strides overflow — is refused like [2^40, 2^40].
        var count = 1, span = 1
        for dim in header.shape {
            let (product, overflow) = span.multipliedReportingOverflow(by: Swift.max(dim, 1))
            guard !overflow else { throw failure("array '\(name)': shape \(header.shape) has too many elements") }
            span = product
            count *= dim
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw failure("array '\(name)': shape \(header.shape) has too many bytes") }
        let available = data.count - headerStart - headerLength
        guard available == byteCount else {
            throw failure(available < byteCount
                ? "array '\(name)': truncated: shape \(header.shape) of \(header.descr) needs \(byteCount) bytes of data, found \(available)"
                : "array '\(name)': \(available) bytes of data, shape \(header.shape) of \(header.descr) needs \(byteCount)")
        }
        // A copy: the tensor must not keep a whole archive (or a file mapping) alive.
        var elements = copied(data.suffix(byteCount))
        if dtype.swapBytes || dtype.elementType == .bool {
            elements.withUnsafeMutableBytes { raw in dtype.normalize(raw) }
        }
        return Tensor(name: name, elementType: dtype.elementType, shape: header.shape, storage: .bytes(elements))
    }

    /// A copy of `data` in storage of its own.
    static func copied(_ data: Data) -> Data {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return Data() }
            return Data(bytes: base, count: raw.count)
        }
    }

    static func readFile(_ path: String) throws(FormatError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(source: path, "no such file")
        }
        guard !isDirectory.boolValue else { throw FormatError(source: path, "is a folder, not a file") }
        return try ONNXStreaming.mapFile(path)
    }

    // MARK: Encoding

    /// The magic, version, header length and padded header dict for `tensor`.
    static func header(for tensor: Tensor, source: String) throws(FormatError) -> Data {
        guard let descr = dtype(for: tensor.elementType) else {
            throw FormatError(source: source, "tensor '\(tensor.name)' is \(tensor.elementType), which has no numpy dtype")
        }
        guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError(source: source, "tensor '\(tensor.name)' has a negative dimension in shape \(tensor.shape)")
        }
        let shape = tensor.shape.count == 1
            ? "(\(tensor.shape[0]),)"
            : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Pad with spaces and a final newline so the data starts 64-byte aligned; version 1 has a
        // 2-byte header length, version 2 a 4-byte one for longer headers (numpy's rule).
        func padding(_ lengthBytes: Int) -> Int {
            let unpadded = magic.count + 2 + lengthBytes + dict.count + 1
            return (64 - unpadded % 64) % 64
        }
        let lengthBytes = dict.count + 1 + padding(2) < 65536 ? 2 : 4
        dict += [UInt8](repeating: 0x20, count: padding(lengthBytes)) + [0x0A]
        var out = Data(magic)
        out.append(contentsOf: [lengthBytes == 2 ? 1 : 2, 0])
        for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: dict.count >> (8 * i))) }
        out.append(contentsOf: dict)
        return out
    }

    /// The tensor's packed elements, checked against its shape.
    static func elementBytes(of tensor: Tensor, source: String) throws(FormatError) -> Data {
        guard case .bytes(let data) = tensor.storage,
              let expected = tensor.elementType.byteCount(forElements: tensor.elementCount) else {
            throw FormatError(source: source, "tensor '\(tensor.name)' is \(tensor.elementType), which has no numpy dtype")
        }
        guard data.count == expected else {
            throw FormatError(source: source, "tensor '\(tensor.name)' holds \(data.count) bytes, shape \(tensor.shape) needs \(expected)")
        }
        return data
    }
}

// MARK: - Header dict

/// The three keys of a `.npy` header.
struct Header {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    struct ParseError: Error { let message: String }

    /// Parses the header's Python dict literal, e.g.
    /// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }`.
    static func parse(_ text: String) throws(ParseError) -> Header {
        var parser = LiteralParser(text: Array(text.unicodeScalars))
        let value = try parser.parseValue(depth: 0)
        parser.skipSpace()
        guard parser.atEnd else { throw ParseError(message: "unexpected text after the dict") }
        guard case .dict(let entries) = value else { throw ParseError(message: "is not a dict") }
        var dict: [String: LiteralParser.Value] = [:]
        for (key, value) in entries {
            guard case .string(let name) = key else { throw ParseError(message: "has a key that is not a string") }
            dict[name] = value
        }
        let missing = ["descr", "fortran_order", "shape"].filter { dict[$0] == nil }
        guard missing.isEmpty else {
            throw ParseError(message: "missing \(missing.map { "'\($0)'" }.joined(separator: ", "))")
        }
        let descr: String
        switch dict["descr"]! {
        case .string(let s): descr = s
        case .list, .tuple: throw ParseError(message: "structured dtypes (a list as 'descr') are not supported")
        default: throw ParseError(message: "'descr' is not a string")
        }
        guard case .bool(let fortran) = dict["fortran_order"]! else {
            throw ParseError(message: "'fortran_order' is not True or False")
        }
        let dims: [LiteralParser.Value]
        switch dict["shape"]! {
        case .tuple(let items), .list(let items): dims = items
        default: throw ParseError(message: "'shape' is not a tuple")
        }
        var shape: [Int] = []
        for dim in dims {
            guard case .int(let n) = dim else { throw ParseError(message: "'shape' holds something other than integers") }
            guard let size = n, size >= 0 else { throw ParseError(message: "'shape' has a negative or too large dimension") }
            shape.append(size)
        }
        return Header(descr: descr, fortranOrder: fortran, shape: shape)
    }
}

/// A parser for the small subset of Python literals `.npy` headers use: dicts, tuples, lists,
/// strings, integers, booleans and None. Nesting is bounded so a hostile header cannot exhaust
/// the stack.
struct LiteralParser {
    indirect enum Value {
        case string(String)
        /// nil when the integer does not fit in `Int` (or is negative and huge).
        case int(Int?)
        case bool(Bool)
        case none
        case tuple([Value])
        case list([Value])
        case dict([(Value, Value)])
    }

    let text: [Unicode.Scalar]
    var position = 0

    var atEnd: Bool { position >= text.count }

    mutating func skipSpace() {
        while position < text.count, text[position].properties.isWhitespace { position += 1 }
    }

    mutating func parseValue(depth: Int) throws(Header.ParseError) -> Value {
        guard depth < 16 else { throw Header.ParseError(message: "nested too deeply") }
        skipSpace()
        guard position < text.count else { throw Header.ParseError(message: "ends early (truncated?)") }
        let c = text[position]
        switch c {
        case "{":
            position += 1
            var entries: [(Value, Value)] = []
            while true {
                skipSpace()
                if position < text.count, text[position] == "}" { position += 1; return .dict(entries) }
                let key = try parseValue(depth: depth + 1)
                skipSpace()
                guard position < text.count, text[position] == ":" else { throw Header.ParseError(message: "expected ':' in the dict") }
                position += 1
                let value = try parseValue(depth: depth + 1)
                entries.append((key, value))
                guard try separator(closing: "}") else { position += 1; return .dict(entries) }
            }
        case "(", "[":
            let closing: Unicode.Scalar = c == "(" ? ")" : "]"
            position += 1
            var items: [Value] = []
            while true {
                skipSpace()
                if position < text.count, text[position] == closing {
                    position += 1
                    return c == "(" ? .tuple(items) : .list(items)
                }
                items.append(try parseValue(depth: depth + 1))
                guard try separator(closing: closing) else {
                    position += 1
                    return c == "(" ? .tuple(items) : .list(items)
                }
            }
        case "'", "\"":
            position += 1
            var scalars = String.UnicodeScalarView()
            while position < text.count, text[position] != c {
                if text[position] == "\\" { position += 1 }
                if position < text.count { scalars.append(text[position]) }
                position += 1
            }
            guard position < text.count else { throw Header.ParseError(message: "has an unterminated string") }
            position += 1
            return .string(String(scalars))
        case "0"..."9", "-", "+":
            var digits = ""
            if c == "-" || c == "+" { digits.unicodeScalars.append(c); position += 1 }
            while position < text.count, ("0"..."9").contains(text[position]) {
                digits.unicodeScalars.append(text[position])
                position += 1
            }
            // Python 2 wrote long integers with an L suffix: (3L, 4L).
            if position < text.count, text[position] == "L" || text[position] == "l" { position += 1 }
            guard digits.contains(where: \.isNumber) else { throw Header.ParseError(message: "has a malformed number") }
            return .int(Int(digits))
        default:
            for (word, value) in [("True", Value.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let scalars = Array(word.unicodeScalars)
                if position + scalars.count <= text.count, Array(text[position..<(position + scalars.count)]) == scalars {
                    position += scalars.count
                    return value
                }
            }
            throw Header.ParseError(message: "unexpected character '\(c.escaped(asASCII: true))'")
        }
    }

    /// After an item: true when a comma follows (more may come), false at the closing bracket
    /// (left for the caller to consume).
    private mutating func separator(closing: Unicode.Scalar) throws(Header.ParseError) -> Bool {
        skipSpace()
        guard position < text.count else { throw Header.ParseError(message: "ends early (truncated?)") }
        if text[position] == "," { position += 1; return true }
        if text[position] == closing { return false }
        throw Header.ParseError(message: "expected ',' or '\(closing)'")
    }
}

// MARK: - dtypes

/// A parsed numpy dtype string such as `<f4`.
struct DType {
    var elementType: ElementType
    var size: Int
    /// True for big-endian multi-byte data, which is swapped to little-endian on reading.
    var swapBytes: Bool

    /// Parses `descr`, or returns a message saying why it is not supported.
    static func parse(_ descr: String) -> Result<DType, DTypeError> {
        let scalars = Array(descr.unicodeScalars)
        guard scalars.count >= 2 else { return .failure(DTypeError("dtype '\(descr)' is not understood")) }
        var order = Unicode.Scalar("=")
        var rest = scalars[...]
        if ["<", ">", "=", "|"].contains(scalars[0]) {
            order = scalars[0]
            rest = scalars.dropFirst()
        }
        switch rest.first {
        case "O": return .failure(DTypeError("object arrays (dtype '\(descr)', pickled Python objects) are not supported"))
        case "U", "S", "a": return .failure(DTypeError("string arrays (dtype '\(descr)') are not supported"))
        default: break
        }
        guard let kind = rest.first, let size = Int(String(String.UnicodeScalarView(rest.dropFirst()))) else {
            return .failure(DTypeError("dtype '\(descr)' is not understood"))
        }
        let type: ElementType?
        switch (kind, size) {
        case ("f", 2): type = .float16
        case ("f", 4): type = .float32
        case ("f", 8): type = .float64
        case ("i", 1): type = .int8
        case ("i", 2): type = .int16
        case ("i", 4): type = .int32
        case ("i", 8): type = .int64
        case ("u", 1): type = .uint8
        case ("u", 2): type = .uint16
        case ("u", 4): type = .uint32
        case ("u", 8): type = .uint64
        case ("b", 1): type = .bool
        case ("c", 8): type = .complex64
        case ("c", 16): type = .complex128
        default: type = nil
        }
        guard let type else { return .failure(DTypeError("dtype '\(descr)' is not supported")) }
        if order == "|" && size > 1 {
            return .failure(DTypeError("dtype '\(descr)' has no byte order ('|' is for one-byte types)"))
        }
        // Complex numbers swap each of their two halves.
        return .success(DType(elementType: type, size: size, swapBytes: order == ">" && size > 1))
    }

    /// Swaps big-endian elements to little-endian, and makes every bool 0 or 1.
    func normalize(_ raw: UnsafeMutableRawBufferPointer) {
        if elementType == .bool {
            for i in 0..<raw.count where raw[i] > 1 { raw[i] = 1 }
            return
        }
        let width = elementType == .complex64 || elementType == .complex128 ? size / 2 : size
        var offset = 0
        while offset + width <= raw.count {
            var lo = offset, hi = offset + width - 1
            while lo < hi {
                raw.swapAt(lo, hi)
                lo += 1
                hi -= 1
            }
            offset += width
        }
    }
}

struct DTypeError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Result where Failure == DTypeError {
    /// The value, or the error `wrap` makes of the message.
    func get(_ wrap: (String) -> FormatError) throws(FormatError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw wrap(error.message)
        }
    }
}
