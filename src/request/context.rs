//! `context`: session, device and the capability interfaces' state, and `event`.

use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use super::model::{
    ContextFields, DeviceFields, EventFields, PlaybackErrorFields, PlaybackStateFields,
    SessionFields,
};

/// The `context` object. A view into the [`ActionRequest`](crate::ActionRequest) it comes from.
///
/// Fields the docs mark as required but that real traffic has been seen without are optional
/// here, so that a request NUGU sends is never refused for them.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},
/// #   "context":{"session":{"id":"s1","isNew":true},"device":{"type":"speaker"},"privatePlay":{}}}"#).unwrap();
/// let context = request.context();
/// assert_eq!(context.session().id(), Some("s1"));
/// assert_eq!(context.device().device_type(), Some("speaker"));
/// assert_eq!(context.private_play().unwrap().get(), "{}");
/// ```
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a ContextFields,
}

/// `context.session`.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},
/// #   "context":{"session":{"id":"s1","isNew":true,"accessToken":"secret"}}}"#).unwrap();
/// let session = request.session();
/// assert!(session.is_new() && !session.is_play_builder_request());
/// assert_eq!(session.access_token(), Some("secret"));
/// assert!(!format!("{session:?}").contains("secret"));
/// ```
#[derive(Clone, Copy)]
pub struct Session<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a SessionFields,
}

/// `context.device`.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},
/// #   "context":{"device":{"type":"speaker","state":{"volume":7}}}}"#).unwrap();
/// let device = request.context().device();
/// assert_eq!(device.device_type(), Some("speaker"));
/// assert_eq!(device.state().unwrap().get(), r#"{"volume":7}"#);
/// ```
#[derive(Clone, Copy)]
pub struct Device<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a DeviceFields,
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
/// [`ActionRequest::event`](crate::ActionRequest::event), as the AudioPlayer interface documents
/// it. Every field but `type` is optional, and `null` is absent; the raw JSON stays reachable
/// through `event()` for anything else. It owns a copy of the event's strings.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},"event":{"type":"AudioPlayer.PlaybackFailed","requestId":"r1","token":"t1","offsetInMilliseconds":180000,"error":{"type":"MEDIA_ERROR_UNKNOWN","message":"decoder"},"currentPlaybackState":{"token":"t0","offsetInMilliseconds":5000,"playerActivity":"PLAYING"}},"context":{}}"#).unwrap();
/// use nugu_proxy::request::Event;
///
/// let raw = request.event().unwrap();
/// let event: Event = raw.parse().unwrap();
/// assert_eq!(event.event_type(), "AudioPlayer.PlaybackFailed");
/// assert_eq!((event.request_id(), event.offset_in_milliseconds()), (Some("r1"), Some(180_000)));
/// assert_eq!(event.error().unwrap().error_type(), Some("MEDIA_ERROR_UNKNOWN"));
/// assert_eq!(event.current_playback_state().unwrap().player_activity(), Some("PLAYING"));
/// // The raw JSON stays reachable, for what the type does not cover.
/// assert!(raw.get().starts_with(r#"{"type":"AudioPlayer.PlaybackFailed""#));
/// ```
#[derive(Clone)]
pub struct Event {
    pub(super) src: ByteString,
    pub(super) fields: EventFields,
}

impl Event {
    pub(super) fn new(src: &ByteString, fields: EventFields) -> Self {
        Self {
            src: src.clone(),
            fields,
        }
    }
}

/// `event.error` of `AudioPlayer.PlaybackFailed`, from [`Event::error`].
#[derive(Clone, Copy)]
pub struct PlaybackError<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a PlaybackErrorFields,
}

/// `event.currentPlaybackState` of `AudioPlayer.PlaybackFailed`, from
/// [`Event::current_playback_state`].
#[derive(Clone, Copy)]
pub struct CurrentPlaybackState<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a PlaybackStateFields,
}
