//! `context`: session, device and the capability interfaces' state, and `event`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::mask::Redacted;
use super::text::{RawJson, Text};

/// The `context` object.
///
/// Fields the docs mark as required but that real traffic has been seen without are optional
/// here, so that a request NUGU sends is never refused for them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Context {
    session: Session,
    device: Device,
    #[serde(skip_serializing_if = "Option::is_none")]
    supported_interfaces: Option<RawJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_play: Option<RawJson>,
}

impl Context {
    /// `context.session`.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// `context.device`.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// `context.supportedInterfaces`, raw; `None` when absent or `null`.
    /// Parse it with [`RawJson::parse`] into [`SupportedInterfaces`].
    pub fn supported_interfaces(&self) -> Option<&RawJson> {
        self.supported_interfaces.as_ref()
    }

    /// `context.privatePlay` (reserved by NUGU, `{}` today), raw.
    pub fn private_play(&self) -> Option<&RawJson> {
        self.private_play.as_ref()
    }
}

/// `context.session`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Session {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Text>,
    is_new: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<Text>,
    is_play_builder_request: bool,
}

impl Session {
    /// The conversation's id (`id`).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Whether this is the first request of the conversation (`isNew`).
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    /// The OAuth 2 access token of an account-linked play (`accessToken`). A credential: never
    /// log it.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// Whether Play Builder sent this request as a test call (`isPlayBuilderRequest`). It is the
    /// body's own claim: see [`PrivatePlayLayer`](crate::PrivatePlayLayer) for how it is trusted.
    pub fn is_play_builder_request(&self) -> bool {
        self.is_play_builder_request
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("is_new", &self.is_new)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| Redacted),
            )
            .field("is_play_builder_request", &self.is_play_builder_request)
            .finish()
    }
}

/// `context.device`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Device {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    device_type: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<RawJson>,
}

impl Device {
    /// The kind of device (`type`).
    pub fn device_type(&self) -> Option<&str> {
        self.device_type.as_deref()
    }

    /// The device's state (`state`), raw: NUGU keeps adding to it.
    pub fn state(&self) -> Option<&RawJson> {
        self.state.as_ref()
    }
}

/// `context.supportedInterfaces`, parsed on demand from [`Context::supported_interfaces`].
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},"context":{"supportedInterfaces":{"AudioPlayer":{"playerActivity":"PAUSED","token":"t1","offsetInMilliseconds":5000}}}}"#).unwrap();
/// use nugu_proxy::request::SupportedInterfaces;
///
/// let interfaces: SupportedInterfaces =
///     request.context().supported_interfaces().unwrap().parse().unwrap();
/// let player = interfaces.audio_player.unwrap();
/// assert_eq!((player.player_activity.as_str(), player.offset_in_milliseconds), ("PAUSED", 5000));
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SupportedInterfaces {
    /// The AudioPlayer interface's state, for plays that use it.
    #[serde(rename = "AudioPlayer", skip_serializing_if = "Option::is_none")]
    pub audio_player: Option<AudioPlayerContext>,
    /// The Display interface's state, for plays that use it.
    #[serde(rename = "Display", skip_serializing_if = "Option::is_none")]
    pub display: Option<DisplayContext>,
}

/// The speaker's audio player state (`supportedInterfaces.AudioPlayer`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct AudioPlayerContext {
    /// `IDLE`, `PLAYING`, `PAUSED`, `STOPPED`, `FINISHED` or `BUFFER_UNDERRUN`.
    pub player_activity: String,
    /// The token of the stream being played, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The position in the current stream, in milliseconds.
    pub offset_in_milliseconds: i64,
}

/// The Display interface's state (`supportedInterfaces.Display`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct DisplayContext {
    /// The Display interface version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The play that owns what is shown, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub play_service_id: Option<String>,
    /// The token of what is shown, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The `event` object (for example `AudioPlayer.PlaybackStarted`), parsed on demand from
/// [`ActionRequest::event`](crate::ActionRequest::event).
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},"event":{"type":"AudioPlayer.PlaybackFinished","token":"t1","offsetInMilliseconds":180000},"context":{}}"#).unwrap();
/// use nugu_proxy::request::Event;
///
/// let event: Event = request.event().unwrap().parse().unwrap();
/// assert_eq!(event.event_type, "AudioPlayer.PlaybackFinished");
/// assert_eq!(event.offset_in_milliseconds, Some(180_000));
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Event {
    /// The event's type, e.g. `AudioPlayer.PlaybackStarted`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The stream token the event is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The stream position, in milliseconds, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_in_milliseconds: Option<i64>,
}
