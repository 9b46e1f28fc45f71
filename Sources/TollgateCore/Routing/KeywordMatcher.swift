/// Finds which keyword lists occur in a text, in one pass. A phrase matches at the start of
/// a word, ignoring ASCII case: `debug` matches "Debugging" but not "undebug".
struct KeywordMatcher: Sendable {
    let listCount: Int
    /// Phrases as lowercased UTF-8, sorted by first byte, with the list each belongs to.
    private let phrases: [(bytes: [UInt8], list: Int)]
    /// `phrases[bucketStart[b]..<bucketStart[b + 1]]` start with byte `b`.
    private let bucketStart: [Int]

    init(lists: [[String]]) {
        self.listCount = lists.count
        var phrases: [(bytes: [UInt8], list: Int)] = []
        for (list, words) in lists.enumerated() {
            for word in words { phrases.append((Array(word.lowercased().utf8), list)) }
        }
        phrases.sort { $0.bytes[0] < $1.bytes[0] }
        var starts = [Int](repeating: phrases.count, count: 257)
        for (index, phrase) in phrases.enumerated().reversed() { starts[Int(phrase.bytes[0])] = index }
        for byte in stride(from: 255, through: 0, by: -1) where starts[byte] > starts[byte + 1] { starts[byte] = starts[byte + 1] }
        self.phrases = phrases
        self.bucketStart = starts
    }

    /// Sets `found[list] = 1` for every list with a phrase in `text`.
    func scan(_ text: String, into found: UnsafeMutableBufferPointer<UInt8>) {
        guard self.listCount > 0, !text.isEmpty else { return }
        var text = text
        text.withUTF8 { bytes in
            var remaining = self.listCount
            var previousIsWord = false
            for position in 0..<bytes.count {
                let byte = bytes[position]
                defer { previousIsWord = byte.isWordByte }
                if previousIsWord { continue }
                let first = Int(byte.asciiLowercased)
                var index = self.bucketStart[first]
                let end = self.bucketStart[first + 1]
                while index < end {
                    let phrase = self.phrases[index]
                    index += 1
                    if found[phrase.list] != 0 || phrase.bytes.count > bytes.count - position { continue }
                    var offset = 1
                    while offset < phrase.bytes.count, bytes[position + offset].asciiLowercased == phrase.bytes[offset] { offset += 1 }
                    if offset == phrase.bytes.count {
                        found[phrase.list] = 1
                        remaining -= 1
                        if remaining == 0 { return }
                    }
                }
            }
        }
    }
}

extension UInt8 {
    @inline(__always) var asciiLowercased: UInt8 {
        self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") ? self | 0x20 : self
    }

    /// Letters, digits and any non-ASCII byte (part of a non-ASCII letter, most likely).
    @inline(__always) var isWordByte: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...:
            true
        default: false
        }
    }
}
