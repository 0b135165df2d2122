//! Character sets of feed bodies: decides the encoding of a body from its byte order
//! mark, its XML declaration and the HTTP `Content-Type` charset, copes with
//! declarations that lie, and hands the XML parser UTF-8 with a declaration that says
//! so. Pure: bytes in, bytes out.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// The `charset` parameter of a `Content-Type` header value, if any.
pub fn charset_of_content_type(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The `encoding="…"` of an XML declaration at the start of `body`, if any.
fn declared_encoding(body: &[u8]) -> Option<(&[u8], std::ops::Range<usize>)> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &body[start..];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = start + rest.iter().take(512).position(|&b| b == b'>')?;
    let decl = &body[start..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let after = &decl[at + 8..];
    let eq = after.iter().position(|&b| b == b'=')?;
    let quoted = &after[eq + 1..];
    let q_at = quoted.iter().position(|&b| b == b'"' || b == b'\'')?;
    let quote = quoted[q_at];
    let value_start = start + at + 8 + eq + 1 + q_at + 1;
    let len = body[value_start..end].iter().position(|&b| b == quote)?;
    Some((
        &body[value_start..value_start + len],
        value_start..value_start + len,
    ))
}

/// `body` as UTF-8, ready for the XML parser.
///
/// Order of trust: a byte order mark; then the XML declaration; then the HTTP charset;
/// then UTF-8. If the chosen encoding is UTF-8 but the bytes are not (a common lie),
/// the HTTP charset is tried, then Windows-1252, which decodes any byte. The XML
/// declaration of the result says `utf-8`. Bodies that already are plain UTF-8 are
/// returned without copying.
pub fn to_utf8<'a>(body: &'a [u8], http_charset: Option<&str>) -> Cow<'a, [u8]> {
    let http = http_charset.and_then(|c| Encoding::for_label(c.as_bytes()));
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = encoding.decode_without_bom_handling(&body[bom_len..]);
        return Cow::Owned(relabel(text.into_owned().into_bytes()));
    }
    let declared = declared_encoding(body).and_then(|(label, _)| Encoding::for_label(label));
    // A UTF-16 declaration without a BOM in a body we could read as ASCII is a lie.
    let declared = declared.map(|e| e.output_encoding());
    let chosen = declared.or(http).unwrap_or(UTF_8);
    if chosen == UTF_8 {
        if std::str::from_utf8(body).is_ok() {
            return Cow::Borrowed(body);
        }
        let fallback = http.filter(|e| *e != UTF_8).unwrap_or(WINDOWS_1252);
        let (text, _) = fallback.decode_without_bom_handling(body);
        return Cow::Owned(relabel(text.into_owned().into_bytes()));
    }
    let (text, had_errors) = chosen.decode_without_bom_handling(body);
    if had_errors && std::str::from_utf8(body).is_ok() {
        // Declared something else, but the bytes are valid UTF-8: trust the bytes.
        return Cow::Owned(relabel(body.to_vec()));
    }
    Cow::Owned(relabel(text.into_owned().into_bytes()))
}

/// Rewrites the XML declaration's encoding to `utf-8`.
fn relabel(mut body: Vec<u8>) -> Vec<u8> {
    if let Some((_, range)) = declared_encoding(&body) {
        body.splice(range, b"utf-8".iter().copied());
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_charset_is_read() {
        assert_eq!(
            charset_of_content_type("application/rss+xml; charset=\"ISO-8859-1\"").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(charset_of_content_type("text/xml"), None);
    }

    #[test]
    fn http_charset_is_used_when_the_xml_declares_none() {
        let body = b"<?xml version=\"1.0\"?><t>caf\xe9</t>";
        let out = to_utf8(body, Some("iso-8859-1"));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "<?xml version=\"1.0\"?><t>café</t>"
        );
    }

    #[test]
    fn a_declaration_that_lies_about_utf8_falls_back() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>Stra\xdfe</t>";
        let out = to_utf8(body, None);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><t>Straße</t>"
        );
    }

    #[test]
    fn declared_legacy_encodings_are_decoded_and_relabelled() {
        let body = b"<?xml version='1.0' encoding='windows-1251'?><t>\xcf\xf0\xe8</t>";
        let out = to_utf8(body, Some("utf-8"));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "<?xml version='1.0' encoding='utf-8'?><t>При</t>"
        );
        let plain = b"<?xml version=\"1.0\"?><t>ok</t>";
        assert!(matches!(to_utf8(plain, None), Cow::Borrowed(_)));
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut body = vec![0xff, 0xfe];
        for unit in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><t>é</t>".encode_utf16() {
            body.extend_from_slice(&unit.to_le_bytes());
        }
        let out = to_utf8(&body, None);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><t>é</t>"
        );
    }
}
