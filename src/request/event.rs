//! `event`, typed: whether a request is an AudioPlayer callback, and which one.
//!
//! NUGU delivers a device event the way it delivers a spoken request: `POST {Web
//! URL}/{actionName}` for the action Play Builder runs, with the event in the body's `event`.
//! NUGU's reference marks `event` mandatory and shows it holding only a `type` for an ordinary
//! request (real payloads have also been seen without it), so "has an `event`" does not mean
//! "is a playback callback": the event's type does. [`ActionRequest::audio_player_event`] (or
//! the `Option<AudioPlayerEvent>` extractor) reads `Some` only for an `AudioPlayer.*` event.
//!
//! The model keeps `event` raw; it is read here on demand, and a malformed event reads as none
//! (or with the fields that parsed), never refusing the request.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;

use super::context::Event;
use super::ActionRequest;

/// The documented AudioPlayer event types, by the part after `AudioPlayer.`; a type NUGU adds
/// later is [`Other`](Self::Other) (its name stays in [`AudioPlayerEvent::event_type`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AudioPlayerEventKind {
    /// A stream started playing (`AudioPlayer.PlaybackStarted`).
    PlaybackStarted,
    /// A stream played to its end (`AudioPlayer.PlaybackFinished`): answer with the next
    /// `AudioPlayer.Play`, or an `AudioPlayer.Stop`.
    PlaybackFinished,
    /// A stream was stopped, by a Stop or by a Play that replaced it
    /// (`AudioPlayer.PlaybackStopped`).
    PlaybackStopped,
    /// A stream was paused (`AudioPlayer.PlaybackPaused`).
    PlaybackPaused,
    /// A paused stream resumed (`AudioPlayer.PlaybackResumed`).
    PlaybackResumed,
    /// A stream failed (`AudioPlayer.PlaybackFailed`): see [`Event::error`].
    PlaybackFailed,
    /// The Play directive's `progressReportDelayInMilliseconds` was reached
    /// (`AudioPlayer.ProgressReportDelayElapsed`).
    ProgressReportDelayElapsed,
    /// Another `progressReportIntervalInMilliseconds` went by
    /// (`AudioPlayer.ProgressReportIntervalElapsed`).
    ProgressReportIntervalElapsed,
    /// An `AudioPlayer.*` type this crate does not know: kept, not refused.
    Other,
}

impl AudioPlayerEventKind {
    /// The kind of an event `type`, or `None` when it is no AudioPlayer event.
    ///
    /// ```
    /// use nugu_proxy::request::AudioPlayerEventKind as Kind;
    ///
    /// assert_eq!(Kind::from_type("AudioPlayer.PlaybackFinished"), Some(Kind::PlaybackFinished));
    /// assert_eq!(Kind::from_type("AudioPlayer.SomethingNew"), Some(Kind::Other));
    /// assert_eq!(Kind::from_type("Text.TextInput"), None);
    /// ```
    pub fn from_type(event_type: &str) -> Option<Self> {
        Some(match event_type.strip_prefix("AudioPlayer.")? {
            "PlaybackStarted" => Self::PlaybackStarted,
            "PlaybackFinished" => Self::PlaybackFinished,
            "PlaybackStopped" => Self::PlaybackStopped,
            "PlaybackPaused" => Self::PlaybackPaused,
            "PlaybackResumed" => Self::PlaybackResumed,
            "PlaybackFailed" => Self::PlaybackFailed,
            "ProgressReportDelayElapsed" => Self::ProgressReportDelayElapsed,
            "ProgressReportIntervalElapsed" => Self::ProgressReportIntervalElapsed,
            _ => Self::Other,
        })
    }
}

/// An AudioPlayer event (`event.type` is `AudioPlayer.*`): the callback NUGU sends when the
/// speaker's player starts, finishes, stops, pauses, resumes or fails a stream, or reaches a
/// progress report. From [`ActionRequest::audio_player_event`], or as an axum extractor
/// `Option<AudioPlayerEvent>` (`None` for a spoken request).
///
/// ```
/// use nugu_proxy::request::AudioPlayerEventKind;
/// use nugu_proxy::testing::NuguRequest;
///
/// let request = NuguRequest::action("chime")
///     .event("AudioPlayer.PlaybackFinished", Some("chime-1"), 3_000)
///     .to_action_request();
/// let event = request.audio_player_event().unwrap();
/// assert_eq!(event.kind(), AudioPlayerEventKind::PlaybackFinished);
/// assert_eq!((event.token(), event.offset_in_milliseconds()), (Some("chime-1"), Some(3_000)));
///
/// // A spoken request carries an `event` too, but no AudioPlayer one.
/// let spoken = NuguRequest::action("chime").to_action_request();
/// assert!(spoken.event().is_some() && spoken.audio_player_event().is_none());
/// ```
#[derive(Clone)]
pub struct AudioPlayerEvent {
    kind: AudioPlayerEventKind,
    event_type: String,
    token: Option<String>,
    offset_in_milliseconds: Option<i64>,
    /// The whole event, when every field it has parsed (an odd field leaves only the type).
    details: Option<Event>,
}

impl AudioPlayerEvent {
    /// Which event.
    pub fn kind(&self) -> AudioPlayerEventKind {
        self.kind
    }

    /// The event's `type`, e.g. `AudioPlayer.PlaybackFinished` (the name of an
    /// [`Other`](AudioPlayerEventKind::Other) one).
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The token of the stream the event is about (`token`).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The position in that stream, in milliseconds (`offsetInMilliseconds`).
    pub fn offset_in_milliseconds(&self) -> Option<i64> {
        self.offset_in_milliseconds
    }

    /// The whole event (`requestId`, `error` and `currentPlaybackState` of a
    /// `PlaybackFailed`...), or `None` when one of its fields had a form the model does not
    /// read (an offset written as a string, say): the raw JSON stays in
    /// [`ActionRequest::event`].
    pub fn details(&self) -> Option<&Event> {
        self.details.as_ref()
    }
}

impl fmt::Debug for AudioPlayerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Types, tokens and offsets are the play's own values, no personal data.
        f.debug_struct("AudioPlayerEvent")
            .field("event_type", &self.event_type)
            .field("token", &self.token())
            .field("offset_in_milliseconds", &self.offset_in_milliseconds())
            .finish()
    }
}

/// Just the event's `type`, read on its own so that an odd field elsewhere does not hide it.
#[derive(Deserialize)]
struct EventType<'a> {
    #[serde(rename = "type", borrow, default)]
    event_type: Option<Cow<'a, str>>,
}

/// What every AudioPlayer event carries, each field read on its own: one of an odd form (an
/// offset written as a string, say) is read if it can be, or else absent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Position {
    #[serde(default, deserialize_with = "lenient::string")]
    token: Option<String>,
    #[serde(default, deserialize_with = "lenient::integer")]
    offset_in_milliseconds: Option<i64>,
}

mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    pub(super) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    pub(super) fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }
}

impl ActionRequest {
    /// The `type` of the request's `event`: `AudioPlayer.PlaybackFinished` for a playback
    /// callback, another type for a spoken request; `None` when there is no `event`, or it has
    /// no string `type`. (`Cow`: a type written with JSON escapes is decoded.)
    ///
    /// ```
    /// use nugu_proxy::testing::NuguRequest;
    ///
    /// let request = NuguRequest::action("chime")
    ///     .event("AudioPlayer.PlaybackStarted", Some("chime-1"), 0)
    ///     .to_action_request();
    /// assert_eq!(request.event_type().as_deref(), Some("AudioPlayer.PlaybackStarted"));
    /// let request = NuguRequest::action("chime").without_event().to_action_request();
    /// assert_eq!(request.event_type(), None);
    /// ```
    pub fn event_type(&self) -> Option<Cow<'_, str>> {
        self.event()?.parse::<EventType<'_>>().ok()?.event_type
    }

    /// The request's AudioPlayer event, if it is a playback callback: `None` for a spoken
    /// request (whose `event`, if any, has another type), and for an `event` that is not an
    /// object with a string `type`. Parsed on each call from the raw `event`.
    pub fn audio_player_event(&self) -> Option<AudioPlayerEvent> {
        let event_type = self.event_type()?;
        let kind = AudioPlayerEventKind::from_type(&event_type)?;
        let raw = self.event()?;
        let position = raw.parse::<Position>().ok();
        let (token, offset_in_milliseconds) =
            position.map_or((None, None), |p| (p.token, p.offset_in_milliseconds));
        Some(AudioPlayerEvent {
            kind,
            event_type: event_type.into_owned(),
            token,
            offset_in_milliseconds,
            details: raw.parse::<Event>().ok(),
        })
    }
}
