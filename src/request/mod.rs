//! The request model: what NUGU sends to `POST {Web URL}/{actionName}`.
//!
//! [`ActionRequest`] is the whole body (version 2.0). Parse it with
//! [`ActionRequest::from_bytes`], which keeps long strings and raw parts as slices of the body
//! instead of copies (short strings are stored inline), or with any serde deserializer. Unknown fields are ignored everywhere, and the parts NUGU keeps
//! extending (`event`, `context.device.state`, `context.supportedInterfaces`,
//! `context.privatePlay`) are kept as [`RawJson`] to be parsed on demand.
//!
//! Personal data and credentials never show in `Debug`: see [`mask`].

mod action;
mod context;
mod error;
pub mod mask;
mod profile;
mod scan;
mod text;

use bytes::Bytes;
use bytestring::ByteString;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use action::{Action, Parameter, Parameters};
pub use context::{
    AudioPlayerContext, Context, Device, DisplayContext, Event, Session, SupportedInterfaces,
};
pub use error::{ParseError, ParseErrorKind};
pub use profile::{EnrolledUser, PrivatePlay, ServiceType};
pub use text::RawJson;

pub(crate) use text::Text;

use profile::Profile;

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
/// assert_eq!((user.name(), user.tag()), ("홍길동", Some("E1234")));
/// // Serializing gives back the wire names.
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["profile"]["privatePlay"]["enrolledUser"]["phoneNo"], "01011112222");
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionRequest(Arc<ActionRequestFields>);

/// The fields of an [`ActionRequest`], behind one `Arc`: the layer hands the request to the
/// handler through the extensions, and extractors such as axum's `Extension` clone it, so a
/// clone is a reference count rather than a copy of the whole model.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename = "ActionRequest", rename_all = "camelCase")]
struct ActionRequestFields {
    version: Text,
    action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<RawJson>,
    #[serde(default)]
    context: Context,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<Profile>,
}

impl fmt::Debug for ActionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = &*self.0;
        f.debug_struct("ActionRequest")
            .field("version", &fields.version)
            .field("action", &fields.action)
            .field("event", &fields.event)
            .field("context", &fields.context)
            .field("profile", &fields.profile)
            .finish()
    }
}

impl ActionRequest {
    /// Parses a request body, sharing its bytes: long strings and raw parts of the result are
    /// slices of `body` rather than copies (escaped strings excepted; strings of up to 23 bytes
    /// are stored inline, which is cheaper than sharing).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use nugu_proxy::ActionRequest;
    ///
    /// let body = Bytes::from_static(br#"{"version":"2.0","action":{"actionName":"a"},"context":{}}"#);
    /// assert_eq!(ActionRequest::from_bytes(body).unwrap().action_name(), "a");
    /// ```
    pub fn from_bytes(body: Bytes) -> Result<Self, ParseError> {
        let text = ByteString::try_from(body).map_err(|e| ParseError::not_utf8(e.valid_up_to()))?;
        if let Some(request) = scan::action_request(&text) {
            return Ok(request);
        }
        // The scanner left it to serde: either a form it does not handle, or an error, which
        // serde reports with its JSON path.
        text::parse_shared(&text).map_err(|e| ParseError::from_json(text.as_bytes(), e))
    }

    /// Parses a request body from a slice or string (copied once into shared bytes).
    ///
    /// ```
    /// use nugu_proxy::{request::ParseErrorKind, ActionRequest};
    ///
    /// let err = ActionRequest::from_slice(br#"{"action":{"actionName":"a"}}"#).unwrap_err();
    /// assert_eq!(err.kind(), ParseErrorKind::Data);
    /// assert_eq!(err.path(), Some("version"));
    /// ```
    pub fn from_slice(body: impl AsRef<[u8]>) -> Result<Self, ParseError> {
        Self::from_bytes(Bytes::copy_from_slice(body.as_ref()))
    }

    /// The API version (`version`), `"2.0"` today.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// The `action` object.
    pub fn action(&self) -> &Action {
        &self.0.action
    }

    /// The action's name (`action.actionName`).
    pub fn action_name(&self) -> &str {
        self.0.action.name()
    }

    /// The action's parameters (`action.parameters`).
    pub fn parameters(&self) -> &Parameters {
        self.0.action.parameters()
    }

    /// The device event that caused this request (`event`), raw. Parse it into
    /// [`Event`] with [`RawJson::parse`].
    pub fn event(&self) -> Option<&RawJson> {
        self.0.event.as_ref()
    }

    /// The `context` object.
    pub fn context(&self) -> &Context {
        &self.0.context
    }

    /// `context.session`.
    pub fn session(&self) -> &Session {
        self.0.context.session()
    }

    /// `profile.privatePlay`, sent to Private Plays only.
    pub fn private_play(&self) -> Option<&PrivatePlay> {
        self.0.profile.as_ref()?.private_play.as_ref()
    }

    /// `profile.privatePlay.enrolledUser`: the invited, enrolled Biz user, if any.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.private_play()?.enrolled_user()
    }

    /// Drops `profile`: used when the body's claims about who is calling cannot be trusted.
    pub(crate) fn without_profile(mut self) -> Self {
        // Unique right after parsing, so this clears the field in place without a copy.
        Arc::make_mut(&mut self.0).profile = None;
        self
    }
}
