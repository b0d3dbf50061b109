//! Announcements: the body sent to users' speakers, the results NUGU posts back, and the
//! shared-device groups.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::enums::open_enum;
use super::ids::UserId;
use super::lenient::null_as_default;
use super::sensitive::Sensitive;

/// A Biz user's API token (`userApiToken`): the token the publisher made for the user when
/// linking their account, used to address the user's announcements. A credential: `Debug`
/// shows nothing of it, and the client never logs it.
///
/// ```
/// use nugu_proxy::biz::UserApiToken;
/// let token = UserApiToken::new("u-3f9a0c7e");
/// assert_eq!(format!("{token:?}"), "UserApiToken(<redacted>)");
/// assert_eq!(token.expose(), "u-3f9a0c7e");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserApiToken(Sensitive);

impl UserApiToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Sensitive::new(token))
    }

    /// The token itself. Take care where it goes.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for UserApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserApiToken(<redacted>)")
    }
}

impl From<Sensitive> for UserApiToken {
    fn from(token: Sensitive) -> Self {
        Self(token)
    }
}

/// The body of every announcement call: `{playServiceId, tts?, display?}`.
///
/// A spoken text ([`Tts`]) or a screen ([`Display`]) is required, or both. The play's voice and
/// TTS domain shape the speech.
///
/// ```
/// use nugu_proxy::biz::{Announcement, Display, DisplayType, Tts};
/// let reminder = Announcement::new("com.example.attendance")
///     .tts(Tts::new("오전 9시 체크인을 잊지 마세요").speed(95).pause1(600))
///     .display(Display::new(DisplayType::FullText1, "체크인", "알림", "9시까지 체크인"));
/// assert_eq!(
///     serde_json::to_value(&reminder).unwrap(),
///     serde_json::json!({
///         "playServiceId": "com.example.attendance",
///         "tts": {"text": "오전 9시 체크인을 잊지 마세요", "speed": "95", "pause1": "600"},
///         "display": {"type": "FullText1", "title": "체크인", "header": "알림",
///                     "body": "9시까지 체크인"}
///     }),
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    /// The play that speaks (required).
    pub play_service_id: String,
    /// What is said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<Tts>,
    /// What is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Display>,
}

impl Announcement {
    /// An announcement of `play_service_id`, with neither text nor screen yet.
    pub fn new(play_service_id: impl Into<String>) -> Self {
        Self {
            play_service_id: play_service_id.into(),
            tts: None,
            display: None,
        }
    }

    /// Sets what is said.
    pub fn tts(mut self, tts: Tts) -> Self {
        self.tts = Some(tts);
        self
    }

    /// Sets what is shown.
    pub fn display(mut self, display: Display) -> Self {
        self.display = Some(display);
        self
    }
}

/// The spoken part: `{text, speed, pause1, pause2}`. The API sends the numbers as strings;
/// unset ones take the API's defaults (speed 100, pause1 600 ms, pause2 300 ms).
///
/// A reminder often names its user, so `Debug` shows the text's length, not the text.
///
/// ```
/// use nugu_proxy::biz::Tts;
/// let tts = Tts::new("홍길동님, 체크인하세요").speed(95);
/// assert_eq!(format!("{tts:?}"), "Tts { text: <12 chars>, speed: Some(95), pause1: None, pause2: None }");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tts {
    /// The sentence(s) spoken (required).
    pub text: String,
    /// Speaking rate: 85 to 120 in steps of 5 (default 100).
    #[serde(default, with = "number_text", skip_serializing_if = "Option::is_none")]
    pub speed: Option<u16>,
    /// Silence between sentences, ms: 300 to 900 in steps of 100 (default 600).
    #[serde(default, with = "number_text", skip_serializing_if = "Option::is_none")]
    pub pause1: Option<u16>,
    /// The second silence, ms: 100 to 500 in steps of 100 (default 300).
    #[serde(default, with = "number_text", skip_serializing_if = "Option::is_none")]
    pub pause2: Option<u16>,
}

impl Tts {
    /// A text at the default speed and pauses.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            speed: None,
            pause1: None,
            pause2: None,
        }
    }

    /// Sets the speaking rate (85 to 120, step 5).
    pub fn speed(mut self, speed: u16) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Sets the silence between sentences (300 to 900 ms, step 100).
    pub fn pause1(mut self, ms: u16) -> Self {
        self.pause1 = Some(ms);
        self
    }

    /// Sets the second silence (100 to 500 ms, step 100).
    pub fn pause2(mut self, ms: u16) -> Self {
        self.pause2 = Some(ms);
        self
    }
}

/// The screen: `{type, title, header, body, footer?, image?, grammarGuide?}`. `Debug` shows
/// the texts' lengths, not the texts (they may name the user).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Display {
    /// The template.
    #[serde(rename = "type")]
    pub kind: DisplayType,
    /// Screen title (required).
    pub title: String,
    /// Heading of the body (required).
    pub header: String,
    /// Body text (required).
    pub body: String,
    /// A note under the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// Image URL (`ImageText2`; without one the speaker shows a default image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Example utterances shown as a guide.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub grammar_guide: Vec<String>,
}

impl Display {
    /// A screen with its required parts.
    pub fn new(
        kind: DisplayType,
        title: impl Into<String>,
        header: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            title: title.into(),
            header: header.into(),
            body: body.into(),
            footer: None,
            image: None,
            grammar_guide: Vec::new(),
        }
    }

    /// Sets the footer.
    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }

    /// Sets the image URL.
    pub fn image(mut self, url: impl Into<String>) -> Self {
        self.image = Some(url.into());
        self
    }

    /// Sets the guide utterances.
    pub fn grammar_guide<I, S>(mut self, utterances: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grammar_guide = utterances.into_iter().map(Into::into).collect();
        self
    }
}

/// A text's length for `Debug`, in characters.
struct Chars<'a>(&'a str);

impl fmt::Debug for Chars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.0.chars().count())
    }
}

impl fmt::Debug for Tts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tts")
            .field("text", &Chars(&self.text))
            .field("speed", &self.speed)
            .field("pause1", &self.pause1)
            .field("pause2", &self.pause2)
            .finish()
    }
}

impl fmt::Debug for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Display")
            .field("kind", &self.kind)
            .field("title", &Chars(&self.title))
            .field("header", &Chars(&self.header))
            .field("body", &Chars(&self.body))
            .field("footer", &self.footer.as_deref().map(Chars))
            .field("image", &self.image.is_some())
            .field("grammar_guide", &self.grammar_guide.len())
            .finish()
    }
}

/// The display template (`display.type`). The pages' table names `FullText1` and `ImageText2`
/// while their example writes `imageText2`: the names compare without regard to case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DisplayType {
    /// `FullText1`: text only.
    FullText1,
    /// `ImageText2`: text with an image.
    ImageText2,
    /// Any other value, kept verbatim (the API refuses it with `V1ANN201`).
    Other(String),
}

impl DisplayType {
    /// The value as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::FullText1 => "FullText1",
            Self::ImageText2 => "ImageText2",
            Self::Other(value) => value,
        }
    }
}

impl From<&str> for DisplayType {
    fn from(value: &str) -> Self {
        if value.eq_ignore_ascii_case("FullText1") {
            Self::FullText1
        } else if value.eq_ignore_ascii_case("ImageText2") {
            Self::ImageText2
        } else {
            Self::Other(value.to_owned())
        }
    }
}

impl Serialize for DisplayType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DisplayType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(deserializer)?.as_str()))
    }
}

/// Numbers the API writes as strings (`"speed": "100"`); a JSON number reads too.
mod number_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(n: &Option<u16>, s: S) -> Result<S::Ok, S::Error> {
        match n {
            Some(n) => s.serialize_str(&n.to_string()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Number {
            Text(String),
            Int(u16),
        }
        Ok(match Option::<Number>::deserialize(d)? {
            None => None,
            Some(Number::Int(n)) => Some(n),
            Some(Number::Text(text)) => Some(
                text.trim()
                    .parse()
                    .map_err(|_| serde::de::Error::custom("not a number"))?,
            ),
        })
    }
}

open_enum! {
    /// The outcome of an announcement for one user (`resultCode`).
    AnnouncementResultCode {
        /// `OK`: every target device played it.
        Ok = "OK",
        /// `SOME_OK`: some target devices played it.
        SomeOk = "SOME_OK",
        /// `FAIL`: no target device played it.
        Fail = "FAIL",
        /// `NOT_AGREE`: the user refuses Biz API messages.
        NotAgree = "NOT_AGREE",
        /// `NO_DEVICE`: the user allows no device to receive Biz API messages.
        NoDevice = "NO_DEVICE",
    }
}

open_enum! {
    /// The outcome of an announcement on one device (`deviceResults[].code`, and the shared
    /// devices' `resultCode`).
    DeviceResultCode {
        /// `OK`: played.
        Ok = "OK",
        /// `NOT_CONNECTED`: the device is not connected to the user.
        NotConnected = "NOT_CONNECTED",
        /// `TIMEOUT`: connecting to the device failed.
        Timeout = "TIMEOUT",
        /// `CONNECT_ERROR`: the device is off, or its network fails.
        ConnectError = "CONNECT_ERROR",
        /// `NOT_SUPPORTED`: the device does not support announcements.
        NotSupported = "NOT_SUPPORTED",
        /// `ERROR`: an unknown error (ask NUGU's developers).
        Error = "ERROR",
    }
}

/// One device's outcome in a user's result: `{code}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceResult {
    /// The outcome.
    pub code: DeviceResultCode,
}

/// What NUGU posts to the `callBack` of a user announcement, and each entry of a group's:
/// `{id, name, email, resultCode, deviceResults[{code}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAnnouncementResult {
    /// The Biz user's id.
    #[serde(default)]
    pub id: Option<UserId>,
    /// The user's name.
    #[serde(default)]
    pub name: Option<Sensitive>,
    /// The user's email.
    #[serde(default)]
    pub email: Option<Sensitive>,
    /// The outcome for the user.
    pub result_code: AnnouncementResultCode,
    /// The outcome on each of the user's devices.
    #[serde(default, deserialize_with = "null_as_default")]
    pub device_results: Vec<DeviceResult>,
}

/// What NUGU posts to the `callBack` of a user-group announcement: `{users[...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAnnouncementResult {
    /// One result per user of the group.
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<UserAnnouncementResult>,
}

/// One shared device's outcome: `{uniqueName, token, resultCode}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedDeviceResult {
    /// The device's unique name.
    #[serde(default)]
    pub unique_name: Option<String>,
    /// The device's API token (a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// The outcome on the device.
    pub result_code: DeviceResultCode,
}

/// What NUGU posts to the `callBack` of a shared-device group announcement: `{devices[...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDeviceAnnouncementResult {
    /// One result per device of the group.
    #[serde(default, deserialize_with = "null_as_default")]
    pub devices: Vec<SharedDeviceResult>,
}

/// A shared-device group, from "list shared-device groups": `{name, token, devices[...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDeviceGroup {
    /// Group name.
    #[serde(default)]
    pub name: Option<String>,
    /// The group's API token (a credential), to address its announcements.
    pub token: Sensitive,
    /// The group's devices.
    #[serde(default, deserialize_with = "null_as_default")]
    pub devices: Vec<SharedDevice>,
}

/// A shared device: `{uniqueName, token, name, alias}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedDevice {
    /// The device's unique name.
    #[serde(default)]
    pub unique_name: Option<String>,
    /// The device's API token (a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// The device's name (in the page's table, not in its example).
    #[serde(default)]
    pub name: Option<String>,
    /// The device's alias.
    #[serde(default)]
    pub alias: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SharedDeviceGroupList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) groups: Vec<SharedDeviceGroup>,
}
