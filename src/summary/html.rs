//! HTML for Matrix: escaping of text we put into markup, and a final sanitising pass
//! that keeps only the tags and attributes the Matrix spec allows in `formatted_body`
//! (no images, no scripts, only http/https/mailto links, no `rel`/`style`/event
//! attributes), with nesting bounded.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Deepest element nesting kept; deeper markup is flattened to its text.
pub const MAX_NESTING: usize = 20;

/// Escapes text for inclusion in HTML content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "font",
        "del",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "p",
        "a",
        "ul",
        "ol",
        "sup",
        "sub",
        "li",
        "b",
        "i",
        "u",
        "strong",
        "em",
        "strike",
        "code",
        "hr",
        "br",
        "div",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "caption",
        "pre",
        "span",
        "details",
        "summary",
    ]
    .into_iter()
    .collect();
    let mut tag_attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    tag_attributes.insert("a", ["href", "target"].into_iter().collect());
    tag_attributes.insert(
        "font",
        ["color", "data-mx-bg-color", "data-mx-color"]
            .into_iter()
            .collect(),
    );
    tag_attributes.insert(
        "span",
        ["data-mx-bg-color", "data-mx-color", "data-mx-spoiler"]
            .into_iter()
            .collect(),
    );
    tag_attributes.insert("ol", ["start"].into_iter().collect());
    tag_attributes.insert("code", ["class"].into_iter().collect());
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .tag_attributes(tag_attributes)
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(None)
        .clean_content_tags(["script", "style"].into_iter().collect())
        .strip_comments(true);
    builder
});

/// Keeps only Matrix-allowed HTML, with nesting bounded by [`MAX_NESTING`].
pub fn sanitize_matrix_html(html: &str) -> String {
    let clean = SANITIZER.clean(html).to_string();
    if nesting_depth(&clean) <= MAX_NESTING {
        clean
    } else {
        escape(&crate::feeds::text::html_to_text(&clean))
    }
}

/// The deepest element nesting in already-sanitised HTML.
fn nesting_depth(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[..gt];
        if let Some(_closing) = tag.strip_prefix('/') {
            depth = depth.saturating_sub(1);
        } else if !tag.ends_with('/') && !tag.starts_with("br") && !tag.starts_with("hr") {
            depth += 1;
            max = max.max(depth);
        }
        rest = &rest[gt + 1..];
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_images_and_bad_links_go() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><img src="https://e.vil/x.png"><a href="javascript:alert(1)">j</a><a href="https://ok.example/">ok</a></p>"#;
        let clean = sanitize_matrix_html(dirty);
        assert!(
            !clean.contains("script") && !clean.contains("img") && !clean.contains("javascript")
        );
        assert!(!clean.contains("onclick") && !clean.contains("rel="));
        assert!(
            clean.contains(r#"<a href="https://ok.example/">ok</a>"#),
            "{clean}"
        );
    }

    #[test]
    fn deep_nesting_is_flattened() {
        let deep = format!("{}x{}", "<div>".repeat(50), "</div>".repeat(50));
        let clean = sanitize_matrix_html(&deep);
        assert!(!clean.contains("<div>"), "{clean}");
        assert!(clean.contains('x'));
        let shallow = "<ul><li><strong>a</strong></li></ul>";
        assert_eq!(sanitize_matrix_html(shallow), shallow);
    }

    #[test]
    fn escape_escapes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
