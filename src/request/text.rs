//! [`Text`], the response's string type, and [`RawJson`], a request part kept as JSON text.

use std::fmt;
use std::ops::Deref;

use bytestring::ByteString;
use serde::de::Deserialize;
use serde::{Serialize, Serializer};
use smol_str::SmolStr;

/// The longest text kept inline rather than shared (smol_str's inline size).
pub(crate) const INLINE: usize = 23;

/// An immutable string for the response: short ones inline, long ones owned.
#[derive(Clone)]
pub(crate) struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// At most [`INLINE`] bytes, stored in place: no allocation, no reference count.
    Inline(SmolStr),
    /// An owned buffer, for longer text.
    Shared(ByteString),
}

impl Text {
    /// `s` inline when it is short enough, else the `ByteString` that `long` makes of it.
    ///
    /// `SmolStr::new_inline` (a byte loop) rather than `SmolStr::new`: the latter's
    /// variable-length copy into a stack buffer, read back with wide loads, stalls
    /// store-to-load forwarding.
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

/// A JSON fragment of the request kept as text, to be parsed on demand.
///
/// The parts of a NUGU request that keep growing within version 2.0 (`event`,
/// `context.device.state`, `context.supportedInterfaces`, `context.privatePlay`) are kept raw:
/// a new field never breaks parsing, and nothing is spent on a part the play does not read.
///
/// ```
/// use nugu_proxy::request::SupportedInterfaces;
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},
/// #   "context":{"supportedInterfaces":{"AudioPlayer":{"playerActivity":"PLAYING","offsetInMilliseconds":1200}}}}"#).unwrap();
///
/// let raw = request.context().supported_interfaces().unwrap();
/// assert_eq!(raw.get(), r#"{"AudioPlayer":{"playerActivity":"PLAYING","offsetInMilliseconds":1200}}"#);
/// let interfaces: SupportedInterfaces = raw.parse().unwrap();
/// assert_eq!(interfaces.audio_player.unwrap().player_activity, "PLAYING");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    pub(crate) fn new(json: &'a str) -> Self {
        RawJson(json)
    }

    /// The fragment's JSON text, exactly as it arrived.
    pub fn get(self) -> &'a str {
        self.0
    }

    /// Parses the fragment into `T` (which may borrow from the request).
    ///
    /// ```
    /// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},
    /// #   "context":{"device":{"state":{"volume": 7}}}}"#).unwrap();
    /// let state: serde_json::Value = request.context().device().state().unwrap().parse().unwrap();
    /// assert_eq!(state["volume"], 7);
    /// ```
    pub fn parse<T: Deserialize<'a>>(self) -> serde_json::Result<T> {
        serde_json::from_str(self.0)
    }

    /// Whether the fragment is JSON `null`.
    pub fn is_null(self) -> bool {
        self.0.trim() == "null"
    }
}

impl fmt::Debug for RawJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Raw parts can grow to carry anything; show their size, not their content.
        write!(f, "RawJson({} bytes)", self.0.len())
    }
}

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Re-borrow as serde_json's RawValue so that it is written verbatim, not as a string.
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}
