//! Text normalisation shared by watchlists and screening: splitting text into word
//! tokens that remember where they came from (so a match is reported as the exact span
//! of the original text), folding case, diacritics and other scripts to lower-case
//! ASCII, and keeping the as-written form of non-Latin words so native-script aliases
//! can match as written.
//!
//! The rules, all applied identically to watchlist names and to screened text:
//! - a token is a maximal run of letters and digits; punctuation, hyphens and spaces
//!   separate tokens, and a token never starts inside a word ("reed" is not a token of
//!   "agreed");
//! - a run is also split where letters meet digits, so "Maia1", "Maia-1" and "MAIA 1"
//!   all give `maia`, `1`;
//! - each Han, kana and Hangul character is a token of its own (those scripts do not
//!   separate words with spaces);
//! - a possessive `'s` is dropped ("Kim Jong Un's" gives `kim`, `jong`, `un`);
//! - the folded form lower-cases and transliterates to ASCII ("Müller" → `muller`,
//!   "Путин" → `putin`); combining marks stay inside their word and fold away;
//! - a few company legal forms are written one way ("Corporation" → `corp`).

use unicode_normalization::char::is_combining_mark;

/// A word of the text, with its folded form (and its as-written form when it is not
/// in Latin script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The folded form compared against names: lower-case ASCII.
    pub norm: String,
    /// The lower-cased form as written, for tokens in a non-Latin script.
    pub native: Option<String>,
    /// Byte offset of the first character in the original text.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// True if the token's first letter is upper-case in the original.
    pub capitalised: bool,
}

impl Token {
    /// True if the token is all digits.
    pub fn is_numeric(&self) -> bool {
        !self.norm.is_empty() && self.norm.bytes().all(|b| b.is_ascii_digit())
    }
}

/// A token as [`Tokenizer`] reports it: offsets into the text and ranges into the
/// tokenizer's own buffers, so screening allocates nothing per word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawToken {
    /// Byte offset of the first character in the original text.
    pub start: u32,
    /// Byte offset just past the last character.
    pub end: u32,
    /// Range of the folded form in [`Tokenizer::folded`].
    pub folded: (u32, u32),
    /// Range of the as-written form in [`Tokenizer::native`], when not Latin script.
    pub native: Option<(u32, u32)>,
    /// True if the first letter is upper-case.
    pub capitalised: bool,
    /// True if the token is all digits.
    pub numeric: bool,
    /// True if the token is one Han, kana or Hangul character.
    pub ideographic: bool,
}

/// A reusable tokenizer: holds the buffers the folded and native forms are written to.
#[derive(Debug, Default)]
pub struct Tokenizer {
    /// Tokens of the last text.
    pub tokens: Vec<RawToken>,
    /// The text lower-cased (ASCII letters only), then the folded forms of words
    /// that are not that copy (words with characters outside ASCII, legal forms
    /// written another way); a token's range may point into either part.
    pub folded: String,
    /// As-written forms of non-Latin tokens, concatenated.
    pub native: String,
    /// True when the last text had both upper- and lower-case letters (so
    /// capitalisation says something about proper nouns).
    pub cased: bool,
}

/// The word being built by [`Tokenizer::tokenize`].
struct Open {
    /// Byte offset of its first character.
    start: usize,
    /// Class of its last base character.
    class: CharClass,
    /// Where its folded form starts in [`Tokenizer::folded`].
    folded_start: usize,
    /// Where its as-written form starts in [`Tokenizer::native`].
    native_start: usize,
    /// True once its as-written form is being written (it met a non-ASCII character).
    native_written: bool,
    /// True if it has letters outside the Latin script.
    non_latin: bool,
    capitalised: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Letter,
    Digit,
    Ideograph,
    Mark,
    Other,
}

fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        ASCII_CLASS[c as usize]
    } else if is_ideograph(c) {
        CharClass::Ideograph
    } else if c.is_numeric() {
        CharClass::Digit
    } else if c.is_alphabetic() {
        CharClass::Letter
    } else if is_combining_mark(c) {
        CharClass::Mark
    } else {
        CharClass::Other
    }
}

/// The class of each ASCII byte: letters, digits, and [`CharClass::Other`] (also
/// given for bytes outside ASCII, so that a run of ASCII letters stops at one).
static ASCII_CLASS: [CharClass; 256] = {
    let mut t = [CharClass::Other; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphabetic() {
            t[b] = CharClass::Letter;
        } else if c.is_ascii_digit() {
            t[b] = CharClass::Digit;
        }
        b += 1;
    }
    t
};

/// Each byte's high bit.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Eight copies of byte `b`.
const fn splat(b: u8) -> u64 {
    b as u64 * 0x0101_0101_0101_0101
}

/// The high bit of each byte of `x` that is an ASCII letter (`class` Letter) or digit
/// (otherwise), eight bytes at once: a byte is in `lo..=hi` when adding `0x80 - lo`
/// sets its high bit and adding `0x7f - hi` does not (bytes outside ASCII are
/// cleared first, so no addition carries into the next byte).
fn class_bits(x: u64, class: CharClass) -> u64 {
    let (y, lo, hi) = if class == CharClass::Letter {
        // Lower-cased: `A..=Z` become `a..=z`, and the other bytes from `@` to `_`
        // become `` ` `` or `{` to DEL, still outside `a..=z`.
        (x | splat(0x20), b'a', b'z')
    } else {
        (x, b'0', b'9')
    };
    let y = y & !HIGH_BITS;
    (y + splat(0x80 - lo)) & !(y + splat(0x7f - hi)) & !x & HIGH_BITS
}

/// The end of the run of bytes of `class` (letters or digits) that continues at `j`.
fn run_end(bytes: &[u8], mut j: usize, class: CharClass) -> usize {
    while let Some(chunk) = bytes.get(j..j + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let stop = !class_bits(x, class) & HIGH_BITS;
        if stop != 0 {
            return j + (stop.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < bytes.len() && ASCII_CLASS[bytes[j] as usize] == class {
        j += 1;
    }
    j
}

/// True when the one-letter word at byte `start` is a possessive "s": right after an
/// apostrophe (`'` or `’`) that itself follows a letter or digit.
fn after_apostrophe(text: &str, start: usize) -> bool {
    let mut rev = text[..start].chars().rev();
    matches!(rev.next(), Some('\'' | '’')) && rev.next().is_some_and(char::is_alphanumeric)
}

/// Han, Hiragana, Katakana and Hangul syllables: scripts written without spaces.
fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F
}

/// True for letters of the Latin script (ASCII and its accented extensions).
fn is_latin(c: char) -> bool {
    c.is_ascii()
        || matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF)
}

/// Company legal forms written in more than one way, mapped to one spelling.
fn canonical_legal_form(folded: &str) -> Option<&'static str> {
    Some(match folded {
        "corporation" => "corp",
        "company" => "co",
        "limited" => "ltd",
        "incorporated" => "inc",
        _ => return None,
    })
}

impl Tokenizer {
    /// A tokenizer with empty buffers.
    pub fn new() -> Tokenizer {
        Tokenizer::default()
    }

    /// The folded form of token `t`.
    pub fn folded_of(&self, t: &RawToken) -> &str {
        &self.folded[t.folded.0 as usize..t.folded.1 as usize]
    }

    /// The as-written form of token `t`, if it is in a non-Latin script.
    pub fn native_of(&self, t: &RawToken) -> Option<&str> {
        t.native.map(|(a, b)| &self.native[a as usize..b as usize])
    }

    /// Splits `text` into tokens, replacing the previous contents of the buffers.
    ///
    /// ASCII, most of any text, takes a fast path that never decodes a character or
    /// writes the as-written form: a run of ASCII letters (or digits) that no
    /// character outside ASCII follows is a whole word and is written out at once
    /// (`Tokenizer::ascii_word`). Only a word that meets a character outside ASCII
    /// is built character by character, and only then is its as-written form written.
    pub fn tokenize(&mut self, text: &str) {
        self.tokens.clear();
        self.native.clear();
        // The whole text lower-cased at once: a word of ASCII letters or digits has
        // its folded form at its own offsets. Other folded forms follow the copy.
        self.folded.clear();
        self.folded.push_str(text);
        self.folded.make_ascii_lowercase();
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut has_upper = false;
        let mut has_lower = false;
        let mut open: Option<Open> = None;
        let mut i = 0;
        while i < n {
            let b = bytes[i];
            if !b.is_ascii() {
                let c = text[i..].chars().next().expect("a character starts here");
                self.non_ascii(text, &mut open, i, c, &mut has_upper, &mut has_lower);
                i += c.len_utf8();
                continue;
            }
            let class = ASCII_CLASS[b as usize];
            if class == CharClass::Other {
                if let Some(o) = open.take() {
                    self.close(text, o, i);
                }
                i += 1;
                continue;
            }
            // The whole run of ASCII letters (or digits) at once.
            let j = run_end(bytes, i + 1, class);
            match &mut open {
                Some(o) if o.class == class => {
                    let o_written = o.native_written;
                    self.push_ascii(&text[i..j], o_written);
                }
                _ => {
                    if let Some(o) = open.take() {
                        self.close(text, o, i);
                    }
                    if j == n || bytes[j].is_ascii() {
                        // What follows is ASCII of another class: the word ends here.
                        self.ascii_word(text, i, j, class);
                    } else {
                        open = Some(self.open(i, class, b.is_ascii_uppercase()));
                        self.push_ascii(&text[i..j], false);
                    }
                }
            }
            i = j;
        }
        if let Some(o) = open.take() {
            self.close(text, o, n);
        }
        // ASCII case was not tracked word by word; both searches stop at the first find.
        has_upper = has_upper || bytes.iter().any(u8::is_ascii_uppercase);
        has_lower = has_lower || bytes.iter().any(u8::is_ascii_lowercase);
        self.cased = has_upper && has_lower;
    }

    /// Appends a run of ASCII letters or digits to the open word's folded form (and
    /// to its as-written form when that is being written).
    fn push_ascii(&mut self, run: &str, native_written: bool) {
        let f = self.folded.len();
        self.folded.push_str(run);
        self.folded[f..].make_ascii_lowercase();
        if native_written {
            let n = self.native.len();
            self.native.push_str(run);
            self.native[n..].make_ascii_lowercase();
        }
    }

    /// A whole word of ASCII letters or digits, `text[start..end]`: what
    /// [`Tokenizer::close`] does for any word, without an [`Open`] word. Its folded
    /// form is the lower-cased copy of the text at the same offsets, unless it is a
    /// legal form written another way.
    fn ascii_word(&mut self, text: &str, start: usize, end: usize, class: CharClass) {
        let bytes = text.as_bytes();
        if end - start == 1 && matches!(bytes[start], b's' | b'S') && after_apostrophe(text, start)
        {
            return;
        }
        let mut folded = (start as u32, end as u32);
        if class == CharClass::Letter
            && let Some(canon) = canonical_legal_form(&self.folded[start..end])
        {
            let at = self.folded.len();
            self.folded.push_str(canon);
            folded = (at as u32, self.folded.len() as u32);
        }
        self.tokens.push(RawToken {
            start: start as u32,
            end: end as u32,
            folded,
            native: None,
            capitalised: bytes[start].is_ascii_uppercase(),
            numeric: class == CharClass::Digit,
            ideographic: false,
        });
    }

    /// The slow path of [`Tokenizer::tokenize`]: one character outside ASCII at `i`.
    fn non_ascii(
        &mut self,
        text: &str,
        open: &mut Option<Open>,
        i: usize,
        c: char,
        has_upper: &mut bool,
        has_lower: &mut bool,
    ) {
        let class = classify(c);
        if class == CharClass::Mark {
            // A combining mark belongs to the word it follows and folds away.
            if let Some(o) = open {
                self.write_native(text, o, i);
                self.native.push(c);
            }
            return;
        }
        // Close the open token when this character cannot continue it.
        let continues = match (&*open, class) {
            (Some(o), CharClass::Letter) => o.class == CharClass::Letter,
            (Some(o), CharClass::Digit) => o.class == CharClass::Digit,
            _ => false,
        };
        if !continues && let Some(o) = open.take() {
            self.close(text, o, i);
        }
        if class == CharClass::Other {
            return;
        }
        if c.is_uppercase() {
            *has_upper = true;
        } else if c.is_lowercase() {
            *has_lower = true;
        }
        let o = open.get_or_insert_with(|| self.open(i, class, c.is_uppercase()));
        self.write_native(text, o, i);
        if class != CharClass::Digit && !is_latin(c) {
            o.non_latin = true;
        }
        for l in c.to_lowercase() {
            self.native.push(l);
        }
        let ascii = any_ascii::any_ascii_char(c);
        for b in ascii.bytes() {
            if b.is_ascii_alphanumeric() {
                self.folded.push(b.to_ascii_lowercase() as char);
            }
        }
        if class == CharClass::Ideograph {
            let o = open.take().expect("just opened");
            self.close(text, o, i + c.len_utf8());
        }
    }

    /// A word starting at byte `start`.
    fn open(&self, start: usize, class: CharClass, capitalised: bool) -> Open {
        Open {
            start,
            class,
            folded_start: self.folded.len(),
            native_start: self.native.len(),
            native_written: false,
            non_latin: false,
            capitalised,
        }
    }

    /// Starts writing the as-written form of the open word: what came before `i`.
    fn write_native(&mut self, text: &str, o: &mut Open, i: usize) {
        if !o.native_written {
            o.native_written = true;
            for c in text[o.start..i].chars() {
                self.native.extend(c.to_lowercase());
            }
        }
    }

    fn close(&mut self, text: &str, o: Open, end: usize) {
        let Open {
            start,
            class,
            folded_start,
            native_start,
            non_latin,
            capitalised,
            ..
        } = o;
        // A possessive "'s" (or "’s") right after a word is not a word.
        if &self.folded[folded_start..] == "s" && end - start == 1 && after_apostrophe(text, start)
        {
            self.folded.truncate(folded_start);
            self.native.truncate(native_start);
            return;
        }
        if let Some(canon) = canonical_legal_form(&self.folded[folded_start..]) {
            self.folded.truncate(folded_start);
            self.folded.push_str(canon);
        }
        let native = if non_latin {
            Some((native_start as u32, self.native.len() as u32))
        } else {
            self.native.truncate(native_start);
            None
        };
        let folded_end = self.folded.len();
        self.tokens.push(RawToken {
            start: start as u32,
            end: end as u32,
            folded: (folded_start as u32, folded_end as u32),
            native,
            capitalised,
            numeric: class == CharClass::Digit,
            ideographic: class == CharClass::Ideograph,
        });
    }
}

/// Splits `text` into owned tokens (see the module docs for the rules).
pub fn tokens(text: &str) -> Vec<Token> {
    let mut t = Tokenizer::new();
    t.tokenize(text);
    t.tokens
        .iter()
        .map(|r| Token {
            norm: t.folded_of(r).to_string(),
            native: t.native_of(r).map(str::to_string),
            start: r.start as usize,
            end: r.end as usize,
            capitalised: r.capitalised,
        })
        .collect()
}

/// The words of `text` as the store's entry ids have always been made: maximal runs
/// of letters and digits, lower-cased, nothing else. Kept separate from [`tokens`] so
/// ids of stored entries never change when matching gets smarter.
pub fn id_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.norm).collect()
    }

    #[test]
    fn punctuation_case_hyphens_and_digit_boundaries() {
        assert_eq!(norms("Maia-1"), ["maia", "1"]);
        assert_eq!(norms("MAIA 1"), ["maia", "1"]);
        assert_eq!(norms("Maia1"), ["maia", "1"]);
        assert_eq!(norms("Kim Jong-un"), ["kim", "jong", "un"]);
        assert_eq!(norms("  "), Vec::<String>::new());
    }

    #[test]
    fn possessives_are_dropped_but_lone_s_is_kept() {
        assert_eq!(
            norms("Kim Jong Un's regime"),
            ["kim", "jong", "un", "regime"]
        );
        assert_eq!(norms("Kim Jong Un’s"), ["kim", "jong", "un"]);
        assert_eq!(norms("plan S"), ["plan", "s"]);
    }

    #[test]
    fn diacritics_and_scripts_fold_to_ascii() {
        assert_eq!(norms("Müller Çelik Øst"), ["muller", "celik", "ost"]);
        assert_eq!(norms("Владимир Путин"), ["vladimir", "putin"]);
        // A combining acute accent stays inside its word.
        assert_eq!(norms("Jose\u{301} Pe\u{301}rez"), ["jose", "perez"]);
    }

    #[test]
    fn non_latin_tokens_keep_their_written_form() {
        let t = tokens("Ким Ivan");
        assert_eq!(t[0].native.as_deref(), Some("ким"));
        assert_eq!(t[1].native, None);
    }

    #[test]
    fn ideographs_are_one_token_each() {
        let t = tokens("김정은은");
        let natives: Vec<_> = t.iter().map(|t| t.native.clone().unwrap()).collect();
        assert_eq!(natives, ["김", "정", "은", "은"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Ship «Lady R» sailed";
        let t = tokens(text);
        assert_eq!(&text[t[1].start..t[1].end], "Lady");
        assert_eq!(&text[t[2].start..t[2].end], "R");
        assert_eq!(t[3].end, text.len());
        assert!(t[0].capitalised && !t[3].capitalised);
    }

    #[test]
    fn legal_forms_are_canonical() {
        assert_eq!(norms("Acme Corporation"), norms("ACME Corp."));
        assert_eq!(norms("Foo Company Limited"), ["foo", "co", "ltd"]);
    }

    #[test]
    fn id_words_are_plain_lowercase_runs() {
        assert_eq!(id_words("Lady R"), ["lady", "r"]);
        assert_eq!(id_words("Maia1"), ["maia1"]);
    }
}
