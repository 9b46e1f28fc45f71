/// The regular expression a tiktoken encoding splits text with before byte-pair merging,
/// implemented by hand over Unicode scalars (no regex engine): each function returns where the
/// piece starting at scalar `i` ends, exactly as the pattern's leftmost-first, backtracking
/// match would (tiktoken runs these patterns with Rust's `fancy-regex`).
///
/// `classes` holds one ``ScalarClass`` raw value per scalar of the text; `i < classes.count`.
/// Character properties come from Swift's Unicode tables, tiktoken's from Rust's `regex`:
/// they agree except for scalars one Unicode version assigns and the other does not yet.
enum SplitPattern: Sendable {
    /// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    case cl100k
    /// The alternatives, in order:
    /// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
    /// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
    /// `\p{N}{1,3}`, ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
    case o200k

    @inline(__always)
    func pieceEnd(_ classes: UnsafeBufferPointer<UInt16>, from i: Int) -> Int {
        switch self {
        case .cl100k: Self.cl100kEnd(classes, from: i)
        case .o200k: Self.o200kEnd(classes, from: i)
        }
    }

    // MARK: cl100k_base

    static func cl100kEnd(_ c: UnsafeBufferPointer<UInt16>, from i: Int) -> Int {
        let n = c.count
        let first = ScalarClass(rawValue: c[i])
        // '(?i:[sdmt]|ll|ve|re)
        if first.contains(.apostrophe), let end = contractionEnd(c, apostrophe: i) { return end }
        // [^\r\n\p{L}\p{N}]?+\p{L}++ (the prefix class excludes letters, so possessive = greedy)
        var j = first.isDisjoint(with: [.letter, .number, .newline]) ? i + 1 : i
        if j < n && ScalarClass(rawValue: c[j]).contains(.letter) {
            j += 1
            while j < n && ScalarClass(rawValue: c[j]).contains(.letter) { j += 1 }
            return j
        }
        // \p{N}{1,3}+
        if first.contains(.number) {
            j = i + 1
            while j < n && j < i + 3 && ScalarClass(rawValue: c[j]).contains(.number) { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]++[\r\n]*+`
        if let end = punctuationEnd(c, from: i, trailing: .newline) { return end }
        // What is left starts with whitespace (every other scalar matched above).
        var end = i + 1
        while end < n && ScalarClass(rawValue: c[end]).contains(.space) { end += 1 }
        // \s++$
        if end == n { return n }
        // \s*[\r\n]: up to the last newline of the run
        var k = end - 1
        while k >= i {
            if ScalarClass(rawValue: c[k]).contains(.newline) { return k + 1 }
            k -= 1
        }
        // \s+(?!\S): all but the last whitespace before a non-space; else \s
        return end - i >= 2 ? end - 1 : i + 1
    }

    // MARK: o200k_base

    static func o200kEnd(_ c: UnsafeBufferPointer<UInt16>, from i: Int) -> Int {
        let n = c.count
        let first = ScalarClass(rawValue: c[i])
        let prefixed = first.isDisjoint(with: [.letter, .number, .newline])
        // The two word alternatives: the optional prefix is tried first with, then without.
        if prefixed && i + 1 < n, let end = lowerWordEnd(c, from: i + 1) { return end }
        if let end = lowerWordEnd(c, from: i) { return end }
        if prefixed && i + 1 < n, let end = upperWordEnd(c, from: i + 1) { return end }
        if let end = upperWordEnd(c, from: i) { return end }
        // \p{N}{1,3}
        if first.contains(.number) {
            var j = i + 1
            while j < n && j < i + 3 && ScalarClass(rawValue: c[j]).contains(.number) { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        if let end = punctuationEnd(c, from: i, trailing: [.newline, .slash]) { return end }
        // What is left starts with whitespace.
        var end = i + 1
        while end < n && ScalarClass(rawValue: c[end]).contains(.space) { end += 1 }
        // \s*[\r\n]+: up to the last newline of the run
        var k = end - 1
        while k >= i {
            if ScalarClass(rawValue: c[k]).contains(.newline) { return k + 1 }
            k -= 1
        }
        // \s+(?!\S), else \s+
        if end == n { return n }
        return end - i >= 2 ? end - 1 : end
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` and an optional contraction,
    /// from `q`: the upper run backs off until a lower-class scalar can follow it.
    @inline(__always)
    private static func lowerWordEnd(_ c: UnsafeBufferPointer<UInt16>, from q: Int) -> Int? {
        let n = c.count
        var upperEnd = q
        while upperEnd < n && ScalarClass(rawValue: c[upperEnd]).contains(.upperish) { upperEnd += 1 }
        var k = upperEnd
        while true {
            if k < n && ScalarClass(rawValue: c[k]).contains(.lowerish) {
                var end = k + 1
                while end < n && ScalarClass(rawValue: c[end]).contains(.lowerish) { end += 1 }
                return optionalContractionEnd(c, from: end)
            }
            if k == q { return nil }
            k -= 1
        }
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` and an optional contraction.
    @inline(__always)
    private static func upperWordEnd(_ c: UnsafeBufferPointer<UInt16>, from q: Int) -> Int? {
        let n = c.count
        guard q < n && ScalarClass(rawValue: c[q]).contains(.upperish) else { return nil }
        var end = q + 1
        while end < n && ScalarClass(rawValue: c[end]).contains(.upperish) { end += 1 }
        while end < n && ScalarClass(rawValue: c[end]).contains(.lowerish) { end += 1 }
        return optionalContractionEnd(c, from: end)
    }

    @inline(__always)
    private static func optionalContractionEnd(_ c: UnsafeBufferPointer<UInt16>, from end: Int) -> Int {
        guard end < c.count && ScalarClass(rawValue: c[end]).contains(.apostrophe) else { return end }
        return contractionEnd(c, apostrophe: end) ?? end
    }

    /// `'(?i:s|t|re|ve|m|ll|d)` with the apostrophe at `a`: where it ends, or nil.
    @inline(__always)
    private static func contractionEnd(_ c: UnsafeBufferPointer<UInt16>, apostrophe a: Int) -> Int? {
        let n = c.count
        guard a + 1 < n else { return nil }
        typealias Letter = ScalarClass.Letter
        let first = ScalarClass(rawValue: c[a + 1]).contractionLetter
        switch first {
        case Letter.s.rawValue, Letter.t.rawValue, Letter.m.rawValue, Letter.d.rawValue:
            return a + 2
        case Letter.r.rawValue, Letter.v.rawValue, Letter.l.rawValue:
            guard a + 2 < n else { return nil }
            let second = ScalarClass(rawValue: c[a + 2]).contractionLetter
            let expected = first == Letter.l.rawValue ? Letter.l.rawValue : Letter.e.rawValue
            return second == expected ? a + 3 : nil
        default:
            return nil
        }
    }

    /// ` ?[^\s\p{L}\p{N}]+` then any run of `trailing` scalars; nil when `i` starts none.
    @inline(__always)
    private static func punctuationEnd(_ c: UnsafeBufferPointer<UInt16>, from i: Int, trailing: ScalarClass) -> Int? {
        let n = c.count
        let other: ScalarClass = [.space, .letter, .number]
        var j = i
        if ScalarClass(rawValue: c[i]).contains(.asciiSpace) && i + 1 < n
            && ScalarClass(rawValue: c[i + 1]).isDisjoint(with: other)
        {
            j = i + 1
        }
        guard ScalarClass(rawValue: c[j]).isDisjoint(with: other) else { return nil }
        j += 1
        while j < n && ScalarClass(rawValue: c[j]).isDisjoint(with: other) { j += 1 }
        while j < n && !ScalarClass(rawValue: c[j]).isDisjoint(with: trailing) { j += 1 }
        return j
    }
}
