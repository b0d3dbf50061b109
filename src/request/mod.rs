//! The request model: what NUGU sends to `POST {Web URL}/{actionName}`.
//!
//! [`ActionRequest`] is the whole body (version 2.0). Parse it with
//! [`ActionRequest::from_bytes`], which keeps the body and makes every string of the model a
//! range of it (no per-string copy), or with any serde deserializer. Unknown fields are ignored
//! everywhere, and the parts NUGU keeps extending (`event`, `context.device.state`,
//! `context.supportedInterfaces`, `context.privatePlay`) are kept as [`RawJson`] to be parsed on
//! demand.
//!
//! [`ActionRequest`], [`PrivatePlay`] and [`EnrolledUser`] own (a reference to) the body;
//! [`Action`], [`Parameters`], [`Context`] and the other parts are views borrowed from the
//! request, so reading them costs nothing.
//!
//! Personal data and credentials never show in `Debug`: see [`mask`].

mod action;
mod context;
mod error;
mod event;
pub mod mask;
mod model;
mod profile;
mod scan;
mod span;
mod text;

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

pub use action::{Action, Parameter, Parameters};
pub use context::{
    AudioPlayerContext, Context, CurrentPlaybackState, Device, DisplayContext, Event,
    PlaybackError, Session, SupportedInterfaces,
};
pub use error::{ParseError, ParseErrorKind};
pub use event::{AudioPlayerEvent, AudioPlayerEventKind};
pub use profile::{EnrolledUser, PrivatePlay, ServiceType};
pub use text::RawJson;

pub(crate) use span::Span;
pub(crate) use text::Text;

use model::{Parts, RequestModel, Ser};
use span::MAX_SOURCE;

/// A NUGU backend-proxy action request (`version` 2.0).
///
/// ```
/// use nugu_proxy::ActionRequest;
///
/// let body = r#"{
///   "version": "2.0",
///   "action": {"actionName": "check_in", "parameters": {}},
///   "context": {"session": {"id": "s1", "isNew": true}, "device": {"type": "speaker"}},
///   "profile": {"privatePlay": {
///     "userKey": "user.0.A3JF", "deviceKey": "device.0.6L27",
///     "enrolledUser": {"name": "홍길동", "phoneNo": "01011112222", "email": "gildong@example.com", "tag": "E1234"}
///   }}
/// }"#;
/// let request = ActionRequest::from_slice(body).unwrap();
/// assert_eq!(request.action_name(), "check_in");
/// let user = request.enrolled_user().unwrap();
/// assert_eq!((user.name(), user.tag()), (Some("홍길동"), Some("E1234")));
/// // Serializing gives back the wire names.
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["profile"]["privatePlay"]["enrolledUser"]["phoneNo"], "01011112222");
/// ```
#[derive(Clone)]
pub struct ActionRequest(Arc<RequestFields>);

/// The parsed request, behind one `Arc`: the layer hands it to the handler through the
/// extensions, and extractors such as axum's `Extension` clone it, so a clone is a reference
/// count rather than a copy.
#[derive(Clone, Default)]
struct RequestFields {
    /// The body, followed by the decoded form of its escaped strings: every span lies here.
    src: ByteString,
    fields: RequestModel,
    /// `profile.privatePlay`, sharing `src`: handed out by reference, and on its own to the
    /// handler through the extensions.
    private_play: Option<PrivatePlay>,
    /// The action's backend parameters as the play declared them ([`crate::Play::attach`]),
    /// for the response to name; not part of the request's JSON.
    declared: Option<crate::play::Declared>,
}

impl RequestFields {
    fn new(src: ByteString, fields: RequestModel) -> Self {
        let mut request = Self {
            src,
            fields,
            private_play: None,
            declared: None,
        };
        request.attach_private_play();
        request
    }

    /// Builds the `PrivatePlay` handle from the parsed `profile.privatePlay` (none when that
    /// lacks its keys: see [`ActionRequest::private_play_set_aside`]).
    fn attach_private_play(&mut self) {
        self.private_play = self
            .sent_private_play()
            .and_then(|play| PrivatePlay::new(&self.src, play.clone()));
    }

    /// `profile.privatePlay` as it was parsed, keys or not.
    fn sent_private_play(&self) -> Option<&model::PrivatePlayFields> {
        self.fields.profile.as_ref()?.private_play.as_ref()
    }
}

impl<'a> Parts<'a> for &'a ActionRequest {
    type Fields = RequestModel;
    fn parts(self) -> (&'a ByteString, &'a RequestModel) {
        (&self.0.src, &self.0.fields)
    }
}

struct ProfileDebug<'a>(&'a ActionRequest);

impl fmt::Debug for ProfileDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("Profile");
        f.field("private_play", &self.0.private_play());
        if self.0.private_play_set_aside() {
            f.field("set_aside", &PrivatePlay::INCOMPLETE);
        }
        f.finish()
    }
}

impl ActionRequest {
    /// Parses a request body, keeping it: every string of the result is a range of `body`
    /// (escaped strings excepted, which are decoded once), so parsing copies no string.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use nugu_proxy::ActionRequest;
    ///
    /// let body = Bytes::from_static(br#"{"version":"2.0","action":{"actionName":"a"},"context":{}}"#);
    /// assert_eq!(ActionRequest::from_bytes(body).unwrap().action_name(), "a");
    /// ```
    pub fn from_bytes(body: Bytes) -> Result<Self, ParseError> {
        // The scanner's source is the body plus its decoded strings (never longer than the
        // body), and spans are `u32`s.
        if body.len() > MAX_SOURCE / 2 {
            return Err(ParseError::too_large(body.len()));
        }
        let text = ByteString::try_from(body).map_err(|e| ParseError::not_utf8(e.valid_up_to()))?;
        // Scanned in place, in the request's own allocation: the model is never moved.
        let mut request = Arc::new(RequestFields {
            src: text,
            ..RequestFields::default()
        });
        // Unique, so this is a borrow, never a clone.
        let parts = Arc::make_mut(&mut request);
        if scan::action_request(&mut parts.src, &mut parts.fields) {
            parts.attach_private_play();
            return Ok(Self(request));
        }
        let text = std::mem::take(&mut parts.src);
        // The scanner left it to serde: either a form it does not handle, or an error, which
        // serde reports with its JSON path. What serde skipped must read as a `Value` too.
        let request = serde_json::from_str(&text);
        let request = request.and_then(|r| scan::readable(&text).map(|()| r));
        request.map_err(|e| ParseError::from_json(text.as_bytes(), e))
    }

    /// Parses a request body from a slice or string (copied once into shared bytes).
    ///
    /// ```
    /// use nugu_proxy::{request::ParseErrorKind, ActionRequest};
    ///
    /// let err = ActionRequest::from_slice(br#"{"action":{"parameters":{}}}"#).unwrap_err();
    /// assert_eq!(err.kind(), ParseErrorKind::Data);
    /// assert_eq!(err.path(), Some("action.actionName"));
    /// ```
    pub fn from_slice(body: impl AsRef<[u8]>) -> Result<Self, ParseError> {
        Self::from_bytes(Bytes::copy_from_slice(body.as_ref()))
    }

    /// The action's name (`action.actionName`).
    pub fn action_name(&self) -> &str {
        self.action().name()
    }

    /// The action's parameters (`action.parameters`).
    pub fn parameters(&self) -> Parameters<'_> {
        self.action().parameters()
    }

    /// `context.session`.
    pub fn session(&self) -> Session<'_> {
        self.context().session()
    }

    /// `profile`, for `Debug`.
    fn profile(&self) -> Option<ProfileDebug<'_>> {
        self.0.fields.profile.as_ref().map(|_| ProfileDebug(self))
    }

    /// `profile.privatePlay`, sent to Private Plays only.
    pub fn private_play(&self) -> Option<&PrivatePlay> {
        self.0.private_play.as_ref()
    }

    /// Whether the request carried a `profile.privatePlay` without `userKey` or `deviceKey`
    /// (or with one `null`). Such a `privatePlay` is no profile: the request is accepted, but
    /// [`private_play`](Self::private_play) and [`enrolled_user`](Self::enrolled_user) read
    /// `None` (so [`enrolled_users_only`](crate::PrivatePlayLayer::enrolled_users_only) answers
    /// its not-enrolled code); this tells it apart from a request without a profile.
    ///
    /// ```
    /// use nugu_proxy::ActionRequest;
    ///
    /// let request = ActionRequest::from_slice(r#"{
    ///   "action": {"actionName": "check_in"},
    ///   "profile": {"privatePlay": {"deviceKey": "device.0.6L27", "enrolledUser": {"name": "홍길동"}}}
    /// }"#).unwrap();
    /// assert!(request.private_play().is_none() && request.enrolled_user().is_none());
    /// assert!(request.private_play_set_aside());
    /// ```
    pub fn private_play_set_aside(&self) -> bool {
        self.0.private_play.is_none() && self.0.sent_private_play().is_some()
    }

    /// `profile.privatePlay.enrolledUser`: the invited, enrolled Biz user, if any.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.private_play()?.enrolled_user()
    }

    /// The backend parameters the play declared for this action (none unless
    /// [`Play::attach`](crate::Play::attach) gave them).
    pub(crate) fn declared_parameters(&self) -> &[Box<str>] {
        self.0.declared.as_deref().unwrap_or_default()
    }

    /// Sets the declared backend parameters: a borrow when this is the only handle, as in the
    /// layer right after parsing.
    pub(crate) fn declare(&mut self, declared: crate::play::Declared) {
        Arc::make_mut(&mut self.0).declared = Some(declared);
    }
}

impl Serialize for ActionRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Ser(&self.0.src, &self.0.fields).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ActionRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (src, fields) = model::deserialize_owned(deserializer)?;
        Ok(Self(Arc::new(RequestFields::new(src, fields))))
    }
}
