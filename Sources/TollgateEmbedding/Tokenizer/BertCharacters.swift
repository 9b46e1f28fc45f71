/// Character classes of BERT's basic tokenizer, as the Hugging Face `tokenizers`
/// `BertNormalizer` and `BertPreTokenizer` define them.
enum BertCharacters {
    /// Removed by clean-up: NUL, U+FFFD, and "other" categories (Cc, Cf, Co, Cs) except
    /// tab, newline and carriage return. Unassigned code points (Cn) are kept, as in `tokenizers`.
    @inline(__always)
    static func isRemovedByCleanup(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 {
            return v == 0x7F || (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D)
        }
        if v == 0xFFFD { return true }
        switch c.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// Unicode White_Space, plus tab, newline and carriage return.
    @inline(__always)
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return c.properties.isWhitespace
    }

    /// ASCII punctuation (which includes symbols such as `$`, `+`, `^`) or a Unicode P* category.
    @inline(__always)
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK ideograph blocks that BERT splits into single-character words (the ranges of
    /// `tokenizers`' `is_chinese_char`; hiragana, katakana and hangul are not among them).
    @inline(__always)
    static func isCJKIdeograph(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
            0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isNonspacingMark(_ c: Unicode.Scalar) -> Bool {
        c.value >= 0x300 && c.properties.generalCategory == .nonspacingMark
    }
}
