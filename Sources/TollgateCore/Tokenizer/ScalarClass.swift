/// What the split patterns ask of one Unicode scalar, as bits.
///
/// `\p{L}`, `\p{N}`, `\p{M}` and the letter-case classes come from the scalar's general
/// category; `\s` is the White_Space property (as in Rust's `regex`, which tiktoken uses).
/// Bits 8...11 name the letter when the scalar can spell a contraction (`'s`, `'ll`...),
/// matching case-insensitively as the patterns' `(?i:...)` does.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt16

    /// `\p{L}`: Lu, Ll, Lt, Lm, Lo.
    static let letter = ScalarClass(rawValue: 1 << 0)
    /// `\p{N}`: Nd, Nl, No.
    static let number = ScalarClass(rawValue: 1 << 1)
    /// `\s`: White_Space.
    static let space = ScalarClass(rawValue: 1 << 2)
    /// `[\r\n]`.
    static let newline = ScalarClass(rawValue: 1 << 3)
    /// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let upperish = ScalarClass(rawValue: 1 << 4)
    /// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let lowerish = ScalarClass(rawValue: 1 << 5)
    /// `'` (U+0027).
    static let apostrophe = ScalarClass(rawValue: 1 << 6)
    /// `/`, which o200k's punctuation run may end with, after newlines.
    static let slash = ScalarClass(rawValue: 1 << 7)
    /// ` ` (U+0020), the optional space before punctuation.
    static let asciiSpace = ScalarClass(rawValue: 1 << 12)

    /// The contraction letter, case-folded: 0 when none.
    enum Letter: UInt16 {
        case s = 1, t, r, e, v, m, l, d
    }

    private static let letterShift: UInt16 = 8

    var contractionLetter: UInt16 { (self.rawValue >> Self.letterShift) & 0xF }

    private init(letter: Letter) { self.rawValue = letter.rawValue << Self.letterShift }

    init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The class of every scalar of `utf8` (valid UTF-8), and where each starts in `utf8`
    /// followed by the end of the text.
    static func classify(_ utf8: UnsafeBufferPointer<UInt8>) -> (classes: [UInt16], starts: [Int32]) {
        var classes: [UInt16] = []
        let starts = [Int32](unsafeUninitializedCapacity: utf8.count + 1) { starts, startCount in
            classes = [UInt16](unsafeUninitializedCapacity: utf8.count) { classes, count in
                basicPlane.withUnsafeBufferPointer { table in
                    var offset = 0
                    count = 0
                    while offset < utf8.count {
                        let b0 = UInt32(utf8[offset])
                        starts[count] = Int32(truncatingIfNeeded: offset)
                        if b0 < 0x80 {
                            classes[count] = table[Int(b0)]
                            offset += 1
                        } else if b0 < 0xE0 {
                            classes[count] = table[Int((b0 & 0x1F) << 6 | UInt32(utf8[offset + 1] & 0x3F))]
                            offset += 2
                        } else if b0 < 0xF0 {
                            let value = (b0 & 0x0F) << 12 | UInt32(utf8[offset + 1] & 0x3F) << 6 | UInt32(utf8[offset + 2] & 0x3F)
                            classes[count] = table[Int(value)]
                            offset += 3
                        } else {
                            let value = (b0 & 0x07) << 18 | UInt32(utf8[offset + 1] & 0x3F) << 12
                                | UInt32(utf8[offset + 2] & 0x3F) << 6 | UInt32(utf8[offset + 3] & 0x3F)
                            classes[count] = computed(value).rawValue
                            offset += 4
                        }
                        count += 1
                    }
                }
                starts[count] = Int32(truncatingIfNeeded: utf8.count)
                startCount = count + 1
            }
        }
        return (classes, starts)
    }

    /// Every class of the Basic Multilingual Plane, computed once (128 KB, a few milliseconds):
    /// looking up Unicode properties per scalar would cost more than the rest of the encoding.
    private static let basicPlane: [UInt16] = (0..<0x1_0000).map { value in
        value < 128 ? ascii[value] : computed(UInt32(value)).rawValue
    }

    private static func computed(_ value: UInt32) -> ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return [] }  // surrogate code points
        let properties = scalar.properties
        var result: ScalarClass = []
        switch properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: result = [.letter, .upperish]
        case .lowercaseLetter: result = [.letter, .lowerish]
        case .modifierLetter, .otherLetter: result = [.letter, .upperish, .lowerish]
        case .nonspacingMark, .spacingMark, .enclosingMark: result = [.upperish, .lowerish]
        case .decimalNumber, .letterNumber, .otherNumber: result = .number
        // White_Space scalars are all separators or controls (U+0085, U+00A0, U+3000...).
        case .spaceSeparator, .lineSeparator, .paragraphSeparator, .control:
            if properties.isWhitespace { result = .space }
        default: break
        }
        // U+017F LATIN SMALL LETTER LONG S case-folds to "s" (Unicode simple case folding).
        if value == 0x17F { result.insert(ScalarClass(letter: .s)) }
        return result
    }

    private static let ascii: [UInt16] = (0..<128).map { value -> UInt16 in
        let byte = UInt8(value)
        var result: ScalarClass = []
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): result = [.letter, .lowerish]
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): result = [.letter, .upperish]
        case UInt8(ascii: "0")...UInt8(ascii: "9"): result = .number
        case 0x09...0x0D, 0x20: result = .space
        default: break
        }
        if byte == 0x0A || byte == 0x0D { result.insert(.newline) }
        if byte == 0x20 { result.insert(.asciiSpace) }
        if byte == UInt8(ascii: "'") { result.insert(.apostrophe) }
        if byte == UInt8(ascii: "/") { result.insert(.slash) }
        let letters: [(Character, Letter)] = [("s", .s), ("t", .t), ("r", .r), ("e", .e), ("v", .v), ("m", .m), ("l", .l), ("d", .d)]
        for (char, letter) in letters where byte | 0x20 == char.asciiValue! {
            result.insert(ScalarClass(letter: letter))
        }
        return result.rawValue
    }
}
