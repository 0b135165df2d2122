//! The logic of the `sanctions-watch stories ITEMS.jsonl` command: reads items, one JSON
//! object per line (`id`, `source`, `title`, `summary`, `published` as RFC 3339),
//! groups them into stories with the engine the bot uses ([`crate::summary::story`]),
//! and answers one JSON object per item, in input order, with exactly the keys `id`,
//! `story`, `action` and `authority`. Bad lines are reported with their line number
//! and left out; the rest are still grouped. Takes `&str`, never a path.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::feeds::text::html_to_text;
use crate::summary::story::index::StoryGrouper;
use crate::summary::story::{StoryInput, recognise_and_fingerprint};

/// One input line.
#[derive(Debug, Clone, Deserialize)]
struct InputItem {
    id: serde_json::Value,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    published: String,
}

/// One output line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoryLine {
    /// The item's id as given.
    pub id: String,
    /// The story: the id of the story's earliest item.
    pub story: String,
    /// `designation`, `delisting`, `amendment`, `general_license`, `enforcement`,
    /// `export_control` or `other`.
    pub action: &'static str,
    /// ISO 3166 alpha-2 code of the acting country, `EU` or `UN`; null if unknown.
    pub authority: Option<&'static str>,
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// The answer for a whole file.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    /// One line per good item, in input order.
    pub lines: Vec<StoryLine>,
    /// The lines left out, and why.
    pub bad_lines: Vec<BadLine>,
}

struct Parsed {
    id: String,
    source: String,
    title: String,
    text: String,
    published: DateTime<Utc>,
}

fn id_string(value: &serde_json::Value) -> Result<String, String> {
    match value {
        serde_json::Value::String(s) if !s.is_empty() => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err("`id` must be a non-empty string or a number".into()),
    }
}

fn parse_line(line: &str) -> Result<Parsed, String> {
    let raw: InputItem = serde_json::from_str(line).map_err(|e| format!("not an item: {e}"))?;
    let id = id_string(&raw.id)?;
    let published = DateTime::parse_from_rfc3339(raw.published.trim())
        .map_err(|e| {
            format!(
                "item {id}: `published` {:?} is not RFC 3339: {e}",
                raw.published
            )
        })?
        .with_timezone(&Utc);
    let title = html_to_text(raw.title.as_deref().unwrap_or_default());
    let text = html_to_text(raw.summary.as_deref().unwrap_or_default());
    if title.trim().is_empty() && text.trim().is_empty() {
        return Err(format!("item {id}: both `title` and `summary` are empty"));
    }
    Ok(Parsed {
        id,
        source: raw.source.unwrap_or_default(),
        title,
        text,
        published,
    })
}

/// Groups the items of a JSON-lines document. Blank lines are skipped.
pub fn group_jsonl(input: &str) -> Grouped {
    let mut grouped = Grouped::default();
    let mut items: Vec<Parsed> = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(item) => items.push(item),
            Err(message) => grouped.bad_lines.push(BadLine {
                line: n + 1,
                message,
            }),
        }
    }
    // Oldest first, so a story is named after its first report; ties keep file order.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].published, i));
    let mut grouper = StoryGrouper::new();
    let mut answers: Vec<Option<StoryLine>> = vec![None; items.len()];
    for i in order {
        let item = &items[i];
        let input = StoryInput {
            source: &item.source,
            title: &item.title,
            text: &item.text,
            published: item.published,
            watched: &[],
        };
        let (recognition, fp) = recognise_and_fingerprint(&input, &item.source);
        let story = grouper.add(&item.id, fp);
        answers[i] = Some(StoryLine {
            id: item.id.clone(),
            story,
            action: recognition.action.as_str(),
            authority: recognition.authority.map(|a| a.code),
        });
    }
    grouped.lines = answers.into_iter().flatten().collect();
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_and_the_rest_grouped() {
        let input = concat!(
            r#"{"id":"a","source":"MOFA Korea","title":"South Korea sanctions seven North Koreans and ships Maia-1 and Maria","summary":"","published":"2024-05-24T09:00:00+09:00"}"#,
            "\n",
            "not json\n",
            "\n",
            r#"{"id":"b","source":"Wire","title":"Seoul blacklists North Korean arms traders, Russian vessels Maia-1 and Maria","summary":"<p>South Korea on Friday <b>sanctioned</b> seven North Koreans and the ships Maia-1 and Maria.</p>","published":"2024-05-24T03:00:00Z"}"#,
            "\n",
            r#"{"id":"c","source":"Wire","title":"x","summary":"","published":"yesterday"}"#,
            "\n",
        );
        let g = group_jsonl(input);
        assert_eq!(
            g.bad_lines.iter().map(|b| b.line).collect::<Vec<_>>(),
            [2, 5]
        );
        assert!(g.bad_lines[1].message.contains("RFC 3339"));
        assert_eq!(g.lines.len(), 2);
        assert_eq!(g.lines[0].id, "a");
        assert_eq!(g.lines[0].story, g.lines[1].story);
        assert_eq!(g.lines[0].authority, Some("KR"));
        assert_eq!(g.lines[1].authority, Some("KR"));
        assert_eq!(g.lines[0].action, "designation");
        let json = serde_json::to_string(&g.lines[0]).unwrap();
        assert!(
            json.starts_with(r#"{"id":"a","story":"a","action":"designation","authority":"KR"}"#),
            "{json}"
        );
    }
}
