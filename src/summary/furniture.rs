//! Page furniture: the parts of a scraped or syndicated article that are not its news.
//! Bodies taken from news pages usually start with the title again, a section label
//! ("War", "World News"), a timestamp ("Post At: May 25/2024 06:50PM") and a byline
//! ("By Jane Doe, Reuters"), open the first paragraph with a dateline ("WASHINGTON
//! (AP) —"), carry photo captions ("… Getty Images") and end with read-more links and
//! disclaimers. Recognition, fingerprints and the extractive summary read an item's
//! sentences through [`article_sentences`], so that the sentence they take for the
//! lead is the article's own. Pure: text in, answers out.

use std::ops::Range;

use super::sentences::split_sentences;

/// Phrases that make a sentence page furniture wherever they stand: captions,
/// disclaimers, read-more and subscription links, credits, press-office lines.
const FURNITURE_PHRASES: &[&str] = &[
    "disclaimer:",
    "all rights reserved",
    "©",
    "click here",
    "read more",
    "read also",
    "related:",
    "related articles",
    "newsletter",
    "getty images",
    "reuters/",
    "ap photo",
    "afp photo",
    "/afp",
    "photo:",
    "photo credit",
    "file photo",
    "image:",
    "cookies",
    "post at:",
    "posted at",
    "for immediate release",
    "media contact",
    "follow us",
    "reposting",
    "reporting by",
    "editing by",
    "our standards:",
];

/// A word of each of [`FURNITURE_PHRASES`] (all but "©"), sorted.
const PHRASE_WORDS: &[&str] = &[
    "afp",
    "ap",
    "click",
    "cookies",
    "disclaimer",
    "editing",
    "file",
    "follow",
    "getty",
    "image",
    "immediate",
    "media",
    "newsletter",
    "photo",
    "post",
    "posted",
    "read",
    "related",
    "reporting",
    "reposting",
    "reserved",
    "reuters",
    "standards",
];

/// Phrases that make a short sentence (a line of a page, not a sentence of news)
/// furniture: "Published on 24 May", "Share this page", but not "the list was
/// published on the Federal Register" in a sentence of news.
const SHORT_LINE_PHRASES: &[&str] = &[
    "copyright",
    "published on",
    "posted on",
    "last updated",
    "sign up",
    "subscribe to",
    "share this",
    "press office",
    "infringement",
];

/// At most this many words make a line, for [`SHORT_LINE_PHRASES`].
const SHORT_LINE_WORDS: usize = 12;

/// Words that start a timestamp line ("Published: 24 May 2024").
const TIMESTAMP_STARTS: &[&str] = &["published", "updated", "posted", "date"];

/// The months' names: for timestamp lines here, and for the calendar words story
/// fingerprints leave out.
pub(crate) const MONTH_NAMES: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The months' short forms, for timestamp lines.
const MONTH_ABBREVIATIONS: &[&str] = &[
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

/// News agencies named in datelines and bylines (not the state media that are
/// themselves sanctioned and named in the news, such as TASS).
const AGENCIES: &[&str] = &[
    "ap",
    "reuters",
    "afp",
    "yonhap",
    "kyodo",
    "bloomberg",
    "upi",
    "dpa",
    "xinhua",
    "efe",
    "ansa",
    "pti",
    "ians",
    "cnn",
    "bbc",
];

/// Acronyms of authorities that open a sentence in capitals before a dash ("OFAC —
/// the Treasury's sanctions office — designated …"): not a dateline's place.
const AUTHORITY_ACRONYMS: &[&str] = &[
    "OFAC", "OFSI", "FCDO", "BIS", "HMT", "DOJ", "FBI", "SEC", "EU", "UN", "US", "USA", "UK",
    "NATO", "DPRK", "ROK", "UAE", "IRGC",
];

/// The article's own sentences of `text` (byte ranges, in order), for an item titled
/// `title`: the title repeated at the start skipped, page furniture left out, and
/// the dateline cut off the lead. Recognition, fingerprints and the extractive
/// summary all read an item's sentences through this.
pub fn article_sentences(title: &str, text: &str) -> Vec<Range<usize>> {
    let echo = title_echo_len(title, text);
    let title = title.to_lowercase();
    let title_words = lower_words(&title);
    let mut out = Vec::new();
    // Section labels, timestamps and bylines come before the lead.
    let mut before_lead = true;
    for r in split_sentences(&text[echo..]) {
        let r = r.start + echo..r.end + echo;
        let sentence = &text[r.clone()];
        if is_furniture(sentence, &title_words, before_lead) {
            continue;
        }
        let cut = if before_lead {
            dateline_len(sentence)
        } else {
            0
        };
        before_lead = false;
        out.push(r.start + cut..r.end);
    }
    out
}

/// True if `sentence` of an item whose title has the words `title_words` is
/// furniture rather than news: the title again, a caption, a credit, a footer; and,
/// `before_lead`, a section label, a timestamp or a byline.
fn is_furniture(sentence: &str, title_words: &[&str], before_lead: bool) -> bool {
    let sentence = sentence.trim();
    let lower = sentence.to_lowercase();
    let words = lower_words(&lower);
    if words.is_empty() {
        return true;
    }
    // The phrases are looked for only in a sentence holding one of their words: one
    // pass over its words instead of a search per phrase.
    let may_hold_a_phrase =
        lower.contains('©') || words.iter().any(|w| PHRASE_WORDS.binary_search(w).is_ok());
    if may_hold_a_phrase && FURNITURE_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    if words.len() <= SHORT_LINE_WORDS && SHORT_LINE_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // The title again.
    if echoes(&words, title_words) {
        return true;
    }
    let ends_like_a_sentence = sentence.ends_with(['.', '!', '?', '"', '”', ':']);
    // A caption's credit at its end: "… in 2023 (AFP)".
    if !ends_like_a_sentence
        && words.len() <= 25
        && words.iter().rev().take(2).any(|w| AGENCIES.contains(w))
    {
        return true;
    }
    if !before_lead {
        return false;
    }
    // A section label: a word or three on a line of their own.
    if words.len() <= 3 && !ends_like_a_sentence {
        return true;
    }
    // A timestamp: "Published: 24 May 2024 10:31", "May 25, 2024 06:50PM",
    // "2024-05-23 14:00".
    let numbers = words
        .iter()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .count();
    if words.len() <= 10 && numbers > 0 {
        let all_numbers = numbers == words.len();
        let starts = TIMESTAMP_STARTS.iter().any(|s| words[0] == *s);
        let has_month = words
            .iter()
            .any(|w| MONTH_NAMES.contains(w) || MONTH_ABBREVIATIONS.contains(w));
        if all_numbers || starts || (has_month && numbers * 2 >= words.len().saturating_sub(1)) {
            return true;
        }
    }
    // A byline: "By Jane Doe", "By Jane Doe and John Roe, Reuters".
    words.len() <= 10 && words[0] == "by" && !ends_like_a_sentence
}

/// The words of lower-cased text: its runs of letters and digits.
fn lower_words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// True if `words` are (nearly) the title's words, and few more.
fn echoes(words: &[&str], title_words: &[&str]) -> bool {
    if title_words.is_empty() || words.len() > title_words.len() + 3 {
        return false;
    }
    let shared = title_words.iter().filter(|w| words.contains(w)).count();
    shared * 10 >= title_words.len() * 8
}

/// The length in bytes of the title repeated at the start of `text` (letters and
/// digits compared, case and punctuation aside), or 0. Read before the text is split
/// into sentences: a title with abbreviations ("S. Korea slaps sanctions on N.
/// Korean hackers") would split into pieces that no longer look like it.
pub fn title_echo_len(title: &str, text: &str) -> usize {
    let mut wanted = title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .peekable();
    if wanted.peek().is_none() {
        return 0;
    }
    for (i, c) in text.char_indices() {
        if !c.is_alphanumeric() {
            continue;
        }
        for lower in c.to_lowercase() {
            if wanted.next() != Some(lower) {
                return 0;
            }
        }
        if wanted.peek().is_none() {
            let end = i + c.len_utf8();
            // The echo is a line or a sentence of its own: "Japan freezes assets"
            // does not echo in "Japan freezes assets of 11 entities".
            let rest = text[end..].trim_start_matches([' ', '\t']);
            return match rest.chars().next() {
                None | Some('\n' | '\r' | '.' | '!' | '?' | ':' | '|' | '-' | '—' | '–') => end,
                _ => 0,
            };
        }
    }
    0
}

/// The length in bytes of a dateline opening `sentence` ("WASHINGTON (AP) — ",
/// "SEOUL, May 24 (Reuters) - ", "LONDON, May 24 — "), or 0 when there is none: a
/// place in capitals or an agency in brackets, a short stretch, then a dash.
pub fn dateline_len(sentence: &str) -> usize {
    let head_end = sentence
        .char_indices()
        .take(80)
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let head = &sentence[..head_end];
    let Some((dash_at, dash)) = ["—", "–", " - ", " -- "]
        .iter()
        .filter_map(|d| head.find(d).map(|at| (at, *d)))
        .min_by_key(|(at, _)| *at)
    else {
        return 0;
    };
    let before = sentence[..dash_at].trim();
    let words: Vec<&str> = before.split_whitespace().collect();
    if words.is_empty() || words.len() > 8 {
        return 0;
    }
    let first: String = words[0].chars().filter(|c| c.is_alphabetic()).collect();
    let place_in_capitals = first.chars().count() >= 3
        && first.chars().all(|c| c.is_uppercase())
        && !AUTHORITY_ACRONYMS.contains(&first.as_str());
    let agency = before
        .to_lowercase()
        .split(['(', ')'])
        .nth(1)
        .is_some_and(|inside| AGENCIES.contains(&inside.trim()));
    if !(place_in_capitals || agency) {
        return 0;
    }
    let after = dash_at + dash.len();
    after + (sentence[after..].len() - sentence[after..].trim_start().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "Russia-North Korea Arms Trade Takes a Hit";

    fn furniture(sentence: &str, before_lead: bool) -> bool {
        let title = TITLE.to_lowercase();
        is_furniture(sentence, &lower_words(&title), before_lead)
    }

    #[test]
    fn every_phrase_has_a_word_in_the_sorted_word_list() {
        assert!(PHRASE_WORDS.windows(2).all(|w| w[0] < w[1]), "sorted");
        for phrase in FURNITURE_PHRASES.iter().filter(|p| **p != "©") {
            assert!(
                lower_words(phrase)
                    .iter()
                    .any(|w| PHRASE_WORDS.binary_search(w).is_ok()),
                "{phrase:?}"
            );
        }
    }

    #[test]
    fn scraped_page_parts_before_the_lead_are_furniture() {
        for part in [
            "Russia-North Korea Arms Trade Takes a Hit",
            "War",
            "World News",
            "Post At: May 25/2024 06:50PM",
            "Published: 24 May 2024 10:31 BST",
            "May 24, 2024 06:50 PM",
            "2024-05-23 14:00",
            "By Jane Doe",
            "By Jane Doe and John Roe, Reuters",
        ] {
            assert!(furniture(part, true), "{part:?}");
        }
    }

    #[test]
    fn captions_credits_and_footers_are_furniture_anywhere() {
        for part in [
            "Russian President Vladimir Putin and North Korean leader Kim Jong-un in Tsiolkovsky, Russia. Getty Images",
            "A cargo ship in the port of Vostochny (AFP)",
            "Read more: Seoul and Tokyo coordinate sanctions",
            "Disclaimer: The copyright of this article belongs to the original author.",
            "Sign up for our daily briefing",
            "Share this page",
            "Reporting by Jane Doe; Editing by John Roe",
            "Copyright 2024 Example News.",
        ] {
            assert!(furniture(part, false), "{part:?}");
        }
    }

    #[test]
    fn news_sentences_are_not_furniture() {
        for (sentence, before_lead) in [
            (
                "South Korea has sanctioned seven North Korean nationals and a pair of ships over their suspected role in the arms trade with Russia.",
                true,
            ),
            (
                "Japan on Friday announced its own suite of sanctions on 11 entities and one person.",
                false,
            ),
            ("OFAC designated three vessels on May 24, 2024.", true),
            ("The sanctions take effect on 1 June.", true),
            ("Treasury sanctions Houthi network", true),
            (
                "Updated General License 25G authorizes transactions with the company.",
                true,
            ),
            (
                "The list was published on the Federal Register on Friday, adding 20 names to the designations.",
                false,
            ),
            (
                "The firm was fined for infringement of EU sanctions on exports of aircraft parts to Russia.",
                false,
            ),
            (
                "Countries that sign up to the price cap may buy Russian oil below it, officials said.",
                false,
            ),
            // A name on a line of its own after the lead (a list of designations).
            ("Lady R", false),
            ("KIM, Jong Un", false),
            ("The agency cited reports by RIA Novosti", false),
        ] {
            assert!(!furniture(sentence, before_lead), "{sentence:?}");
        }
    }

    #[test]
    fn article_sentences_skip_the_furniture_and_cut_the_dateline() {
        let text = "Russia-North Korea Arms Trade Takes a Hit\n\nWar\nPost At: May 25/2024 06:50PM\n\nSEOUL (AP) — South Korea has sanctioned seven North Korean nationals.\nA caption of a ship (AFP)\nJapan acted too.\nRead more: sanctions";
        let got: Vec<&str> = article_sentences(TITLE, text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            got,
            [
                "South Korea has sanctioned seven North Korean nationals.",
                "Japan acted too."
            ]
        );
    }

    #[test]
    fn a_title_repeated_as_a_line_of_its_own_is_measured() {
        let title = "S. Korea slaps sanctions on N. Korean hackers";
        let text = "S. KOREA SLAPS SANCTIONS ON N. KOREAN HACKERS\nPolitics\nSouth Korea acted.";
        assert_eq!(
            &text[title_echo_len(title, text)..],
            "\nPolitics\nSouth Korea acted."
        );
        assert_eq!(title_echo_len(title, "South Korea acted."), 0);
        assert_eq!(title_echo_len("Korea", "Koreans acted."), 0);
        assert_eq!(title_echo_len("", "Anything."), 0);
        // The title's words opening the lead are the lead, not an echo.
        assert_eq!(
            title_echo_len(
                "Japan freezes assets",
                "Japan freezes assets of 11 entities."
            ),
            0
        );
    }

    #[test]
    fn datelines_are_measured_and_only_datelines() {
        for (sentence, rest) in [
            (
                "WASHINGTON (AP) — The U.S. sanctioned 10 firms.",
                "The U.S. sanctioned 10 firms.",
            ),
            (
                "SEOUL, May 24 (Reuters) - South Korea imposed sanctions.",
                "South Korea imposed sanctions.",
            ),
            (
                "LONDON, May 24 — Britain added 50 names.",
                "Britain added 50 names.",
            ),
            (
                "Tokyo (Kyodo) -- Japan froze the assets.",
                "Japan froze the assets.",
            ),
        ] {
            assert_eq!(&sentence[dateline_len(sentence)..], rest, "{sentence:?}");
        }
        for sentence in [
            "South Korea — a close U.S. ally — imposed sanctions.",
            "The move - announced on Friday - targets ships.",
            "OFAC — the Treasury's sanctions office — designated 12 vessels.",
            "BIS – the Commerce Department's export agency – added 20 entities.",
            "Treasury sanctions network",
        ] {
            assert_eq!(dateline_len(sentence), 0, "{sentence:?}");
        }
    }
}
