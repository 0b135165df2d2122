//! Page furniture: the parts of a scraped or syndicated article that are not its news.
//! Bodies taken from news pages usually start with the title again, a section label
//! ("War", "World News"), a timestamp ("Post At: May 25/2024 06:50PM") and a byline
//! ("By Jane Doe, Reuters"), open the first paragraph with a dateline ("WASHINGTON
//! (AP) —"), carry photo captions ("… Getty Images") and end with read-more links and
//! disclaimers. Recognition, fingerprints and the extractive summary read an item's
//! sentences through [`title_echo_len`], [`is_furniture`] and [`dateline_len`], so that the sentence they
//! take for the lead is the article's own. Pure: text in, answers out.

/// Phrases that make a sentence page furniture wherever they stand: captions,
/// disclaimers, read-more and subscription links, timestamps, press-office lines.
const FURNITURE_PHRASES: &[&str] = &[
    "disclaimer",
    "copyright",
    "all rights reserved",
    "click here",
    "read more",
    "read also",
    "related:",
    "related articles",
    "sign up",
    "subscribe to",
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
    "posted on",
    "published on",
    "last updated",
    "for immediate release",
    "media contact",
    "press office",
    "follow us",
    "infringement",
    "reposting",
];

/// Words that start a timestamp line ("Published: 24 May 2024").
const TIMESTAMP_STARTS: &[&str] = &[
    "published",
    "updated",
    "posted",
    "date",
    "posted at",
    "post at",
];

/// Month names and their short forms, for timestamp lines.
const MONTHS: &[&str] = &[
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
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

/// News agencies named in datelines and bylines.
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
    "tass",
    "ria",
    "efe",
    "ansa",
    "pti",
    "ians",
    "cnn",
    "bbc",
];

/// True if `sentence` of an item titled `title` is furniture rather than news: the
/// title again, a section label, a timestamp, a byline, a caption, a footer.
pub fn is_furniture(sentence: &str, title: &str) -> bool {
    let sentence = sentence.trim();
    if sentence.is_empty() {
        return true;
    }
    let lower = sentence.to_lowercase();
    if FURNITURE_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let words = lower_words(&lower);
    if words.is_empty() {
        return true;
    }
    let ends_like_a_sentence = sentence.ends_with(['.', '!', '?', '"', '”', ':']);
    // A section label: a word or three on a line of its own.
    if words.len() <= 3 && !ends_like_a_sentence {
        return true;
    }
    // The title again (the scraped body often starts with it).
    if !title.trim().is_empty() && echoes(&words, title) {
        return true;
    }
    // A timestamp: "Published: 24 May 2024 10:31", "May 25, 2024 06:50PM",
    // "2024-05-23 14:00".
    if words.len() <= 6 && words.iter().all(|w| w.chars().all(|c| c.is_ascii_digit())) {
        return true;
    }
    if words.len() <= 10 {
        let starts = TIMESTAMP_STARTS.iter().any(|s| lower.starts_with(s));
        let has_month = words.iter().any(|w| MONTHS.contains(w));
        let digits = words
            .iter()
            .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
            .count();
        if (starts && digits > 0) || (has_month && digits * 2 >= words.len().saturating_sub(1)) {
            return true;
        }
    }
    // A byline: "By Jane Doe", "By Jane Doe and John Roe, Reuters".
    if words.len() <= 10 && words[0] == "by" && !ends_like_a_sentence {
        return true;
    }
    // A caption credit at the end: "… on Friday. Getty Images", "(AFP)".
    if !ends_like_a_sentence
        && words.len() <= 25
        && words.iter().rev().take(2).any(|w| AGENCIES.contains(w))
    {
        return true;
    }
    false
}

/// The words of lower-cased text: its runs of letters and digits.
fn lower_words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// True if the words of a sentence are (nearly) those of the title, and few more.
fn echoes(words: &[&str], title: &str) -> bool {
    let title = title.to_lowercase();
    let title_words = lower_words(&title);
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
            // The echo ends at the end of a word.
            return match text[end..].chars().next() {
                Some(next) if next.is_alphanumeric() => 0,
                _ => end,
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
    let place_in_capitals = first.chars().count() >= 3 && first.chars().all(|c| c.is_uppercase());
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

    #[test]
    fn scraped_page_parts_are_furniture() {
        for part in [
            "Russia-North Korea Arms Trade Takes a Hit",
            "War",
            "World News",
            "Post At: May 25/2024 06:50PM",
            "Published: 24 May 2024 10:31 BST",
            "May 24, 2024 06:50 PM",
            "Updated 3 hours ago, May 24 2024",
            "By Jane Doe",
            "By Jane Doe and John Roe, Reuters",
            "Russian President Vladimir Putin, right, and North Korean leader Kim Jong-un in Tsiolkovsky, Russia. Getty Images",
            "A cargo ship in the port of Vostochny (AFP)",
            "Read more: Seoul and Tokyo coordinate sanctions",
            "Disclaimer: The copyright of this article belongs to the original author.",
            "Sign up for our daily briefing",
            "2024-05-23 14:00",
        ] {
            assert!(is_furniture(part, TITLE), "{part:?}");
        }
    }

    #[test]
    fn news_sentences_are_not_furniture() {
        for sentence in [
            "South Korea has sanctioned seven North Korean nationals and a pair of ships over their suspected role in the arms trade with Russia.",
            "Japan on Friday announced its own suite of sanctions on 11 entities and one person.",
            "The vessels hit with South Korean sanctions included Russian cargo ships the Maia-1 and Maria.",
            "OFAC designated three vessels on May 24, 2024.",
            "The sanctions take effect on 1 June.",
            "Treasury sanctions Houthi network",
        ] {
            assert!(!is_furniture(sentence, TITLE), "{sentence:?}");
        }
    }

    #[test]
    fn a_title_repeated_at_the_start_is_measured() {
        let title = "S. Korea slaps sanctions on N. Korean hackers";
        let text = "S. KOREA SLAPS SANCTIONS ON N. KOREAN HACKERS\nPolitics\nSouth Korea acted.";
        assert_eq!(
            &text[title_echo_len(title, text)..],
            "\nPolitics\nSouth Korea acted."
        );
        assert_eq!(title_echo_len(title, "South Korea acted."), 0);
        assert_eq!(title_echo_len("Korea", "Koreans acted."), 0);
        assert_eq!(title_echo_len("", "Anything."), 0);
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
            "Treasury sanctions network",
        ] {
            assert_eq!(dateline_len(sentence), 0, "{sentence:?}");
        }
    }
}
