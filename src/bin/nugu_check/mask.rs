//! The made-up user's personal data: found in answers, masked in everything the checker prints.

use crate::play::{USER_EMAIL, USER_NAME, USER_PHONE};

/// How much of a body the evidence shows.
const EXCERPT_CHARS: usize = 160;

/// The personal data as it may come back: raw, or with the name `\u`-escaped.
fn forms() -> [(&'static str, String); 4] {
    let escaped: String = USER_NAME
        .encode_utf16()
        .map(|unit| format!("\\u{unit:04x}"))
        .collect();
    [
        ("name", USER_NAME.to_owned()),
        ("name", escaped),
        ("phoneNo", USER_PHONE.to_owned()),
        ("email", USER_EMAIL.to_owned()),
    ]
}

/// Where `needle` stands in `text` at or after byte `from`, ASCII letters compared without
/// case (an email in mixed case, `\uD64D` as well as `\ud64d`). A match always starts and ends
/// on a character boundary: case folding touches ASCII bytes only, which never occur inside a
/// multi-byte character.
fn find_ignoring_ascii_case(text: &str, needle: &str, from: usize) -> Option<usize> {
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    if needle.is_empty() || text.len() < needle.len() {
        return None;
    }
    (from..=text.len() - needle.len())
        .find(|&i| text[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Which personal field `body` holds, if any.
pub fn leaks_personal_data(body: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(body);
    forms()
        .into_iter()
        .find(|(_, form)| find_ignoring_ascii_case(&text, form, 0).is_some())
        .map(|(field, _)| field)
}

/// `text` with the personal data replaced by `***`, found as [`leaks_personal_data`] finds it.
pub fn mask(text: &str) -> String {
    let mut text = text.to_owned();
    for (_, form) in forms() {
        let mut masked = String::with_capacity(text.len());
        let mut rest = 0;
        while let Some(at) = find_ignoring_ascii_case(&text, &form, rest) {
            masked.push_str(&text[rest..at]);
            masked.push_str("***");
            rest = at + form.len();
        }
        masked.push_str(&text[rest..]);
        text = masked;
    }
    text
}

/// The start of a body, on one line, masked.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = mask(&text);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut chars = one_line.chars();
    let short: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else if short.is_empty() {
        "(empty body)".to_owned()
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_found_raw_or_escaped_and_masked() {
        let body = format!(r#"{{"error":"bad","phone":"{USER_PHONE}"}}"#);
        assert_eq!(leaks_personal_data(body.as_bytes()), Some("phoneNo"));
        assert!(!excerpt(body.as_bytes()).contains(USER_PHONE));
        let escaped = serde_json::to_string(&USER_NAME).unwrap();
        assert_eq!(leaks_personal_data(escaped.as_bytes()), Some("name"));
        let ascii = "\"\\ud64d\\uccb4\\ud06c\"";
        assert_eq!(leaks_personal_data(ascii.as_bytes()), Some("name"));
        assert_eq!(mask(&format!("{USER_NAME} {USER_EMAIL}")), "*** ***");
        // Whatever the leak check finds, the mask hides: mixed case, upper-case hex escapes.
        for leak in [
            USER_EMAIL.to_uppercase(),
            "Nugu-Check@Example.com".to_owned(),
            "\\uD64D\\uCCB4\\uD06C".to_owned(),
        ] {
            assert!(leaks_personal_data(leak.as_bytes()).is_some(), "{leak}");
            assert_eq!(mask(&format!("a {leak} b {leak}")), "a *** b ***");
        }
        assert_eq!(
            leaks_personal_data(b"{\"error\":\"invalid_credentials\"}"),
            None
        );
    }
}
