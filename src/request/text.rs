//! Strings and raw JSON that share the request body's bytes instead of copying them.
//!
//! A NUGU request is parsed once per call on the hot path. Copying every string into its own
//! allocation costs as much as the parse itself, so while [`parse_shared`] runs, the body is held
//! in a thread-local and every unescaped string or raw JSON fragment that serde_json lends us is
//! turned into a slice of that body (a reference-count bump). Escaped strings, and any value
//! deserialized outside `parse_shared` (`serde_json::from_str`, `from_value`, ...), are owned
//! copies: the types behave the same either way.
//!
//! Most strings of a request are short (parameter names and values, types, `"2.0"`); a slice of
//! the body costs an atomic increment to make and another to drop, which for ~30 strings was a
//! quarter of the parse. So a [`Text`] of at most [`INLINE`] bytes is copied inline instead, and
//! only longer ones (keys, tokens, ids) share the body.

use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;

use bytestring::ByteString;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smol_str::SmolStr;

thread_local! {
    /// The body being parsed by `parse_shared` on this thread, if any.
    static SOURCE: RefCell<Option<ByteString>> = const { RefCell::new(None) };
}

/// Restores the previous source when dropped, so nested or panicking parses leave no trace.
struct SourceGuard(Option<ByteString>);

impl SourceGuard {
    fn enter(body: ByteString) -> Self {
        Self(SOURCE.with(|s| s.replace(Some(body))))
    }
}

impl Drop for SourceGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        SOURCE.with(|s| *s.borrow_mut() = previous);
    }
}

/// Deserializes `body` so that the strings of the result share its bytes.
pub(crate) fn parse_shared<T: DeserializeOwned>(body: &ByteString) -> serde_json::Result<T> {
    let _guard = SourceGuard::enter(body.clone());
    serde_json::from_str(body)
}

/// A slice of the current source when `s` lies inside it, else an owned copy.
fn share(s: &str) -> ByteString {
    SOURCE.with(|source| match &*source.borrow() {
        Some(body) if contains(body, s) => body.slice_ref(s),
        _ => ByteString::from(s),
    })
}

/// Short text, copied inline; longer text as a slice of the current source when it lies inside
/// it, else an owned copy.
fn share_text(s: &str) -> Text {
    Text::inline_or(s, || share(s))
}

fn contains(body: &str, part: &str) -> bool {
    let start = body.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    at >= start && at + part.len() <= start + body.len()
}

/// The longest text kept inline rather than shared with the body (smol_str's inline size).
pub(crate) const INLINE: usize = 23;

/// An immutable string that may share the request body's bytes.
#[derive(Clone)]
pub(crate) struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// At most [`INLINE`] bytes, stored in place: no allocation, no reference count.
    Inline(SmolStr),
    /// A slice of the body (or an owned buffer), for longer text.
    Shared(ByteString),
}

impl Text {
    /// `part`, a slice of `body`: inline when short, else sharing `body`.
    ///
    /// `SmolStr::new_inline` (a byte loop) rather than `SmolStr::new`: the latter's
    /// variable-length `copy_from_slice` into a stack buffer that is then read back with wide
    /// loads stalls store-to-load forwarding; measured side by side, `new_inline` parses the
    /// typical request 14% faster and the large one 16% faster.
    pub(super) fn from_body(body: &ByteString, part: &str) -> Self {
        Self::inline_or(part, || body.slice_ref(part))
    }

    /// `s` inline when it is short enough, else the `ByteString` that `long` makes of it.
    fn inline_or(s: &str, long: impl FnOnce() -> ByteString) -> Self {
        if s.len() <= INLINE {
            Text(Repr::Inline(SmolStr::new_inline(s)))
        } else {
            Text(Repr::Shared(long()))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(s) => s,
            Repr::Shared(s) => s,
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(Repr::Inline(SmolStr::default()))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            Text::from(s.as_str())
        } else {
            // Long: keep the String's buffer rather than copy it.
            Text(Repr::Shared(ByteString::from(s)))
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::inline_or(s, || ByteString::from(s))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextValueVisitor)
    }
}

struct TextValueVisitor;

impl<'de> Visitor<'de> for TextValueVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(share_text(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text::from(v))
    }
}

struct SharedVisitor;

impl<'de> Visitor<'de> for SharedVisitor {
    type Value = ByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(share(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(ByteString::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(ByteString::from(v))
    }
}

/// A JSON fragment of the request kept as text, to be parsed on demand.
///
/// The parts of a NUGU request that keep growing within version 2.0 (`event`,
/// `context.device.state`, `context.supportedInterfaces`, `context.privatePlay`) are kept raw:
/// a new field never breaks parsing, and nothing is spent on a part the play does not read.
///
/// ```
/// use nugu_proxy::request::{RawJson, SupportedInterfaces};
///
/// let raw: RawJson = serde_json::from_str(
///     r#"{"AudioPlayer":{"playerActivity":"PLAYING","offsetInMilliseconds":1200}}"#,
/// ).unwrap();
/// let interfaces: SupportedInterfaces = raw.parse().unwrap();
/// assert_eq!(interfaces.audio_player.unwrap().player_activity, "PLAYING");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RawJson(ByteString);

impl RawJson {
    pub(super) fn shared(json: ByteString) -> Self {
        RawJson(json)
    }

    /// The fragment's JSON text, exactly as it arrived.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// Parses the fragment into `T`.
    ///
    /// ```
    /// use nugu_proxy::request::RawJson;
    ///
    /// let raw: RawJson = serde_json::from_str(r#"{"volume": 7}"#).unwrap();
    /// let state: serde_json::Value = raw.parse().unwrap();
    /// assert_eq!(state["volume"], 7);
    /// ```
    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.0)
    }

    /// Whether the fragment is JSON `null`.
    pub fn is_null(&self) -> bool {
        self.0.trim() == "null"
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Raw parts can grow to carry anything; show their size, not their content.
        write!(f, "RawJson({} bytes)", self.0.len())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Re-borrow as serde_json's RawValue so that it is written verbatim, not as a string.
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// serde_json's name for its raw-value protocol: a deserializer that sees it hands over the
/// next value's unparsed text (borrowed when it can). `serde_json::value::RawValue` speaks the
/// same protocol; we speak it ourselves to keep the text as a slice of the body, and the test
/// `long_text_and_raw_json_share_the_body_short_text_is_inline` catches any change on serde_json's side.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_newtype_struct(RAW_VALUE_TOKEN, RawVisitor)
            .map(RawJson)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = ByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key::<de::IgnoredAny>()?.is_none() {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        map.next_value_seed(RawText)
    }
}

struct RawText;

impl<'de> DeserializeSeed<'de> for RawText {
    type Value = ByteString;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(SharedVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        plain: Text,
        escaped: Text,
        raw: RawJson,
        #[serde(default)]
        long: Text,
        #[serde(default)]
        long_escaped: Text,
    }

    fn is_slice_of(body: &ByteString, part: &str) -> bool {
        contains(body, part)
    }

    #[test]
    fn long_text_and_raw_json_share_the_body_short_text_is_inline() {
        let body = ByteString::from(
            r#"{"plain":"홍길동","escaped":"a\"b","raw":{"x":[1,2,{"y":null}]},
                "long":"user.0.A3JFAD5YQ59L4WYJ146BMJG5Q49I1QAFU22HZSJV9",
                "long_escaped":"device.0.6L273EAELW0EK2ZY4C2Z47Z2SD9VM8\n"}"#
                .to_owned(),
        );
        let doc: Doc = parse_shared(&body).unwrap();
        assert_eq!(doc.plain.as_str(), "홍길동");
        assert_eq!(doc.escaped.as_str(), "a\"b");
        assert_eq!(doc.raw.get(), r#"{"x":[1,2,{"y":null}]}"#);
        assert_eq!(
            doc.long_escaped.as_str(),
            "device.0.6L273EAELW0EK2ZY4C2Z47Z2SD9VM8\n"
        );
        assert!(
            is_slice_of(&body, doc.long.as_str()),
            "long unescaped text shares the body"
        );
        assert!(
            is_slice_of(&body, doc.raw.get()),
            "raw JSON shares the body"
        );
        assert!(
            !is_slice_of(&body, doc.plain.as_str()),
            "short text is copied inline"
        );
        assert!(
            !is_slice_of(&body, doc.long_escaped.as_str()),
            "escaped text is owned"
        );
    }

    #[test]
    fn owned_deserializers_work_too() {
        let value = serde_json::json!({"plain":"a","escaped":"b","raw":{"k":[true]}});
        let doc: Doc = serde_json::from_value(value).unwrap();
        assert_eq!(doc.raw.parse::<serde_json::Value>().unwrap()["k"][0], true);
        let doc: Doc =
            serde_json::from_reader(&br#"{"plain":"a","escaped":"b","raw":7}"#[..]).unwrap();
        assert_eq!(doc.raw.get(), "7");
    }

    #[test]
    fn source_is_cleared_after_parse() {
        let body = ByteString::from(r#"{"plain":"a","escaped":"b","raw":1}"#.to_owned());
        let _: Doc = parse_shared(&body).unwrap();
        SOURCE.with(|s| assert!(s.borrow().is_none()));
    }
}
