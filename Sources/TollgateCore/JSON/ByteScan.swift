/// Searches over raw bytes, for the scans that read one member of a body without parsing
/// all of it (the usage of a response, whether a request mentions a member).
public enum ByteScan {
    /// Where `needle` last occurs in `haystack`.
    public static func lastIndex(of needle: StaticString, in haystack: UnsafeRawBufferPointer) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard count > 0, haystack.count >= count else { return nil }
        let first = needle.utf8Start[0]
        var index = haystack.count - count
        while index >= 0 {
            if haystack[index] == first, Self.matches(needle, in: haystack, at: index) { return index }
            index -= 1
        }
        return nil
    }

    /// Where `needle` first occurs in `haystack` at or after `start`.
    public static func firstIndex(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from start: Int = 0) -> Int? {
        let count = needle.count
        guard count > 0, haystack.count - start >= count else { return nil }
        let first = needle[0]
        var index = start
        while index <= haystack.count - count {
            if haystack[index] == first, Self.equal(haystack, at: index, needle) { return index }
            index += 1
        }
        return nil
    }

    /// Whether `"name"` (quoted) occurs anywhere in `haystack`.
    public static func containsQuoted(_ name: String, in haystack: UnsafeRawBufferPointer) -> Bool {
        var name = name
        return name.withUTF8 { name in
            var from = 1
            while let index = Self.firstIndex(of: UnsafeRawBufferPointer(name), in: haystack, from: from) {
                let end = index + name.count
                if haystack[index - 1] == UInt8(ascii: "\""), end < haystack.count, haystack[end] == UInt8(ascii: "\"") { return true }
                from = index + 1
            }
            return false
        }
    }

    /// The first index at or after `start` that is not JSON whitespace.
    public static func skipWhitespace(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count, Self.isJSONWhitespace(bytes[index]) { index += 1 }
        return index
    }

    public static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    /// One past the `}` closing the object that starts at `start`, skipping strings.
    public static func endOfObject(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    private static func matches(_ needle: StaticString, in haystack: UnsafeRawBufferPointer, at index: Int) -> Bool {
        Self.equal(haystack, at: index, UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
    }

    /// Whether `haystack` holds `needle` at `index` (the caller checked it fits).
    private static func equal(_ haystack: UnsafeRawBufferPointer, at index: Int, _ needle: UnsafeRawBufferPointer) -> Bool {
        for offset in 0..<needle.count where haystack[index + offset] != needle[offset] { return false }
        return true
    }
}
