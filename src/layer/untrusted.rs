//! The body of an unauthenticated Play Builder test call, without its `profile`: the inner
//! service must not find a claimed enrolled user in it, whether it reads the extensions or the
//! bytes (`axum::Json<Value>`).
//!
//! Only test calls take this path (development only), so it favours certainty over speed: the
//! body (an object: the parser refuses any other request) is re-read by serde_json, whose every
//! top-level member is kept as it was sent (values byte for byte, keys decoded and re-encoded,
//! order and repeats kept) except those whose decoded key a lenient reader would take for
//! `profile` (see [`reads_as_profile`]). Dropping members rather than forwarding a body rebuilt
//! from the parsed model keeps what the model does not read (unknown members, numbers as
//! written) for the handler, as on the authenticated path, which never comes here.

use std::fmt;

use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::request::ParseError;

/// The field that speaks for the caller.
const PROFILE: &str = "profile";

/// `body` (a request the parser accepted) without `profile`.
pub(super) fn without_profile(body: &[u8]) -> Result<Bytes, ParseError> {
    let Top(members) = serde_json::from_slice(body).map_err(|e| ParseError::from_json(body, e))?;
    let mut out = Vec::with_capacity(body.len());
    out.push(b'{');
    let kept = members.iter().filter(|(key, _)| !reads_as_profile(key));
    for (i, (key, value)) in kept.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key).map_err(|e| ParseError::from_json(body, e))?;
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
    }
    out.push(b'}');
    Ok(Bytes::from(out))
}

/// Whether a reader behind the layer could take the decoded `key` for `profile`: compared
/// without its control characters (`"profile\u0000"`) and ignoring case, including the
/// non-ASCII letters whose simple case mapping is an ASCII one (`ı` uppercases to `I`, `İ`
/// lowercases to `i`, as Java's `equalsIgnoreCase` and .NET's case-insensitive binders treat
/// them). Only unknown members are lost when this errs on the side of a match.
fn reads_as_profile(key: &str) -> bool {
    let mut chars = key.chars().filter(|c| !c.is_control());
    let same = |c: char, letter: char| {
        c.eq_ignore_ascii_case(&letter)
            || c.to_lowercase().next() == Some(letter)
            || c.to_uppercase().next() == Some(letter.to_ascii_uppercase())
    };
    PROFILE
        .chars()
        .all(|letter| chars.next().is_some_and(|c| same(c, letter)))
        && chars.next().is_none()
}

/// A JSON object's members in order, repeats included, each with its decoded key and its value
/// kept raw.
struct Top<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            members.push((key, map.next_value::<&RawValue>()?));
        }
        Ok(Top(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActionRequest;
    use serde_json::Value;

    /// Strips `body`, and checks that the result parses to the same request minus its profile,
    /// and holds no `profile` for a plain JSON reader either.
    fn strip(body: &str) -> String {
        let stripped = without_profile(body.as_bytes()).unwrap();
        let text = String::from_utf8(stripped.to_vec()).unwrap();
        let request = ActionRequest::from_bytes(stripped).unwrap();
        assert!(request.private_play().is_none(), "{text}");
        let original = ActionRequest::from_slice(body).unwrap();
        let mut expected = serde_json::to_value(&original).unwrap();
        expected.as_object_mut().unwrap().remove(PROFILE);
        assert_eq!(serde_json::to_value(&request).unwrap(), expected, "{text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert!(value.get(PROFILE).is_none(), "{text}");
        text
    }

    const USER: &str = r#"{"privatePlay":{"userKey":"u","deviceKey":"d","enrolledUser":{"name":"홍길동","phoneNo":"01011112222","email":"e@x"}}}"#;

    #[test]
    fn profile_anywhere_in_any_spelling_is_removed() {
        let action = r#"{"actionName":"a","parameters":{"p":{"type":"T","value":"v"}}}"#;
        let bodies = [
            format!(r#"{{"profile":{USER},"version":"2.0","action":{action}}}"#),
            format!(r#"{{"version":"2.0","profile":{USER},"action":{action}}}"#),
            format!(r#"{{"version":"2.0","action":{action},"profile":{USER}}}"#),
            format!(r#"{{"version":"2.0","action":{action},"\u0070rofile":{USER}}}"#),
            format!(r#"{{"version":"2.0","action":{action},"pro\u0066ile":{USER}}}"#),
            format!(" \n{{ \"version\" : \"2.0\" ,\n\t\"profile\"\r\n:\n{USER} , \"action\":{action}\n}}\n "),
            format!(r#"{{"version":"2.0","action":{action},"profile":null}}"#),
            format!(r#"{{"version":"2.0","action":{action},"profile":{{}}}}"#),
        ];
        for body in bodies {
            let text = strip(&body);
            assert!(
                !text.contains("홍길동") && !text.contains("rofile"),
                "{text}"
            );
        }
    }

    #[test]
    fn every_key_a_lenient_reader_takes_for_profile_is_removed() {
        let taken = [
            "profile",
            "Profile",
            "PROFILE",
            "profile\0",
            "\u{1}pro\u{1f}file\u{7f}\u{85}",
            "prof\u{131}le",
            "PROF\u{130}LE",
        ];
        for key in taken {
            assert!(reads_as_profile(key), "{key:?}");
        }
        let kept = [
            "profile ",
            "profiles",
            "profil",
            "",
            "pro file",
            "xprofile",
            "ｐrofile",
        ];
        for key in kept {
            assert!(!reads_as_profile(key), "{key:?}");
        }
        let body = r#"{"version":"2.0","action":{"actionName":"a"},"PROFILE":1,"Pro\u0066ile\u0000":2,"x":3}"#;
        assert_eq!(
            strip(body),
            r#"{"version":"2.0","action":{"actionName":"a"},"x":3}"#
        );
    }

    #[test]
    fn everything_else_is_kept_as_sent() {
        // Values byte for byte (numbers, escapes, spacing inside them), unknown members in
        // order, a repeated unknown key twice, keys that only look like `profile`.
        let body = r#"{"version":"2.0","x":1.50e+3,"x":[1, 2],"action":{"actionName":"a", "parameters":{}},"s":"\u00e9\n","profile ":1,"profiles":2,"profil":3,"profile":{"privatePlay":null}}"#;
        assert_eq!(
            strip(body),
            r#"{"version":"2.0","x":1.50e+3,"x":[1, 2],"action":{"actionName":"a", "parameters":{}},"s":"\u00e9\n","profile ":1,"profiles":2,"profil":3}"#
        );
        // A request written as an array never gets here (the parser refuses it), nor through.
        assert!(ActionRequest::from_slice(r#"["2.0",{"actionName":"a"}]"#).is_err());
        assert!(without_profile(br#"["2.0",{"actionName":"a"}]"#).is_err());
    }
}
