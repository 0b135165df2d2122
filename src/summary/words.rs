//! Word tokens read once and shared: `Words` holds the tokens of one title or
//! sentence (the same tokens, offsets and folded forms as
//! [`crate::screening::normalize::tokens`] gives, without an owned string per word), and
//! `ItemText` holds an item's title and its text split into sentences, each
//! sentence tokenized the first time it is asked for, so that recognising an item
//! and fingerprinting it read its words once.

use std::cell::OnceCell;
use std::ops::Range;

use super::furniture::article_sentences;
use crate::screening::normalize::Tokenizer;

/// The word tokens of one piece of text.
#[derive(Debug)]
pub(crate) struct Words {
    tok: Tokenizer,
}

impl Words {
    /// Tokenizes `text`.
    pub(crate) fn of(text: &str) -> Words {
        let mut tok = Tokenizer::new();
        tok.tokenize(text);
        Words { tok }
    }

    /// How many tokens.
    pub(crate) fn len(&self) -> usize {
        self.tok.tokens.len()
    }

    /// The folded form of token `i`.
    pub(crate) fn norm(&self, i: usize) -> &str {
        self.tok.folded_of(&self.tok.tokens[i])
    }

    /// The folded form of token `i`, if there is one.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        self.tok.tokens.get(i).map(|t| self.tok.folded_of(t))
    }

    /// The byte range of token `i` in the text.
    pub(crate) fn span(&self, i: usize) -> Range<usize> {
        let t = &self.tok.tokens[i];
        t.start as usize..t.end as usize
    }

    /// The folded forms, in order.
    pub(crate) fn norms(&self) -> impl Iterator<Item = &str> {
        self.tok.tokens.iter().map(|t| self.tok.folded_of(t))
    }
}

/// An item's title and text, read as far as they are asked for.
pub(crate) struct ItemText<'a> {
    /// The title.
    pub title: &'a str,
    /// The text.
    pub text: &'a str,
    /// The article's own sentences of the text (see [`article_sentences`]).
    pub sentences: Vec<Range<usize>>,
    title_words: Words,
    sentence_words: Vec<OnceCell<Words>>,
}

impl<'a> ItemText<'a> {
    /// Splits `text` into sentences and tokenizes `title`.
    pub(crate) fn new(title: &'a str, text: &'a str) -> ItemText<'a> {
        let sentences = article_sentences(title, text);
        let sentence_words = sentences.iter().map(|_| OnceCell::new()).collect();
        ItemText {
            title,
            text,
            sentences,
            title_words: Words::of(title),
            sentence_words,
        }
    }

    /// The title's tokens.
    pub(crate) fn title_words(&self) -> &Words {
        &self.title_words
    }

    /// Sentence `k` of the text.
    pub(crate) fn sentence(&self, k: usize) -> &'a str {
        &self.text[self.sentences[k].clone()]
    }

    /// The tokens of sentence `k`.
    pub(crate) fn sentence_words(&self, k: usize) -> &Words {
        self.sentence_words[k].get_or_init(|| Words::of(self.sentence(k)))
    }
}

/// The folded words of `parts`, in order, one space apart (what `search` keeps of
/// an item): the same as joining the `norm` of [`crate::screening::normalize::tokens`]
/// of each part.
pub fn folded_words(parts: &[&str]) -> String {
    let mut out = String::new();
    let mut first = true;
    let mut tok = Tokenizer::new();
    for part in parts {
        tok.tokenize(part);
        for t in &tok.tokens {
            // A space before every word but the first (even after an empty one).
            if !first {
                out.push(' ');
            }
            first = false;
            out.push_str(tok.folded_of(t));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::normalize::tokens;

    #[test]
    fn words_are_the_tokens_of_normalize() {
        for text in [
            "Kim Jong Un's ships Maia-1 and MARIA",
            "Müller, Путин and 北朝鮮 ltd. Corporation",
            "",
            "  ",
        ] {
            let w = Words::of(text);
            let t = tokens(text);
            assert_eq!(w.len(), t.len());
            for (i, t) in t.iter().enumerate() {
                assert_eq!(w.norm(i), t.norm);
                assert_eq!(w.span(i), t.start..t.end);
            }
        }
    }

    #[test]
    fn folded_words_join_the_tokens_of_each_part() {
        let parts = ["", "Kim Jong Un's", "", "  Maia-1  ", "Müller", "\u{2122}"];
        for n in 0..=parts.len() {
            for start in 0..n {
                let parts = &parts[start..n];
                let joined: Vec<String> = parts
                    .iter()
                    .flat_map(|p| tokens(p).into_iter().map(|t| t.norm))
                    .collect();
                assert_eq!(folded_words(parts), joined.join(" "), "{parts:?}");
            }
        }
    }
}
