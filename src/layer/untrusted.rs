//! The body of an unauthenticated Play Builder test call, without its `profile`: the inner
//! service must not find a claimed enrolled user in it, whether it reads the extensions or the
//! bytes (`axum::Json<Value>`).
//!
//! Only test calls take this path (development only), so it favours certainty over speed: the
//! body (an object: the parser refuses any other request) is re-read by serde_json, whose every
//! top-level member is kept as it was sent (values byte for byte, keys decoded and re-encoded,
//! order and repeats kept) except those whose decoded key is `profile`. The authenticated path
//! never comes here.

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
    let kept = members.iter().filter(|(key, _)| key != PROFILE);
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
    fn everything_else_is_kept_as_sent() {
        // Values byte for byte (numbers, escapes, spacing inside them), unknown members in
        // order, a repeated unknown key twice, a key that only looks like `profile`.
        let body = r#"{"version":"2.0","x":1.50e+3,"x":[1, 2],"action":{"actionName":"a", "parameters":{}},"s":"\u00e9\n","profile ":1,"Profile":2,"profile":{"privatePlay":null}}"#;
        assert_eq!(
            strip(body),
            r#"{"version":"2.0","x":1.50e+3,"x":[1, 2],"action":{"actionName":"a", "parameters":{}},"s":"\u00e9\n","profile ":1,"Profile":2}"#
        );
        // A request written as an array never gets here (the parser refuses it), nor through.
        assert!(ActionRequest::from_slice(r#"["2.0",{"actionName":"a"}]"#).is_err());
        assert!(without_profile(br#"["2.0",{"actionName":"a"}]"#).is_err());
    }
}
