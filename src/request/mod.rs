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
pub mod mask;
mod profile;
mod scan;
mod span;
mod text;
mod wire;

use bytes::Bytes;
use bytestring::ByteString;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

pub use action::{Action, Parameter, Parameters};
pub use context::{
    AudioPlayerContext, Context, Device, DisplayContext, Event, Session, SupportedInterfaces,
};
pub use error::{ParseError, ParseErrorKind};
pub use profile::{EnrolledUser, PrivatePlay, ServiceType};
pub use text::RawJson;

pub(crate) use span::Span;
pub(crate) use text::Text;

use action::{ActionFields, ParameterFields};
use context::{ContextFields, DeviceFields, SessionFields};
use profile::{PrivatePlayFields, Profile};
use span::{SourceBuilder, MAX_SOURCE};
use wire::{
    RawText, WireAction, WireContext, WireDevice, WireParameter, WireParameters, WireProfile,
    WireRequest, WireSession,
};

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
#[derive(Clone)]
pub struct ActionRequest(Arc<RequestFields>);

/// The parsed request, behind one `Arc`: the layer hands it to the handler through the
/// extensions, and extractors such as axum's `Extension` clone it, so a clone is a reference
/// count rather than a copy.
#[derive(Clone, Default)]
struct RequestFields {
    /// The body, followed by the decoded form of its escaped strings: every span lies here.
    src: ByteString,
    version: Span,
    action: ActionFields,
    event: Option<Span>,
    context: ContextFields,
    profile: Option<Profile>,
}

/// What a parser found: the request's spans, before the source is final.
#[derive(Default)]
struct Found {
    version: Span,
    action: ActionFields,
    event: Option<Span>,
    context: ContextFields,
    profile: Option<Option<PrivatePlayFields>>,
}

impl RequestFields {
    fn new(src: ByteString, found: Found) -> Self {
        let profile = found.profile.map(|private_play| Profile {
            private_play: private_play.map(|fields| PrivatePlay::new(&src, fields)),
        });
        Self {
            src,
            version: found.version,
            action: found.action,
            event: found.event,
            context: found.context,
            profile,
        }
    }
}

impl fmt::Debug for ActionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionRequest")
            .field("version", &self.version())
            .field("action", &self.action())
            .field("event", &self.event())
            .field("context", &self.context())
            .field("profile", &self.0.profile.as_ref().map(ProfileDebug))
            .finish()
    }
}

struct ProfileDebug<'a>(&'a Profile);

impl fmt::Debug for ProfileDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("private_play", &self.0.private_play)
            .finish()
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
        let text = match scan::action_request(text) {
            Ok((src, found)) => return Ok(Self(Arc::new(RequestFields::new(src, found)))),
            Err(text) => text,
        };
        // The scanner left it to serde: either a form it does not handle, or an error, which
        // serde reports with its JSON path.
        serde_json::from_str(&text).map_err(|e| ParseError::from_json(text.as_bytes(), e))
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
        self.0.version.get(&self.0.src)
    }

    /// The `action` object.
    pub fn action(&self) -> Action<'_> {
        Action {
            src: &self.0.src,
            fields: &self.0.action,
        }
    }

    /// The action's name (`action.actionName`).
    pub fn action_name(&self) -> &str {
        self.action().name()
    }

    /// The action's parameters (`action.parameters`).
    pub fn parameters(&self) -> Parameters<'_> {
        self.action().parameters()
    }

    /// The device event that caused this request (`event`), raw. Parse it into
    /// [`Event`] with [`RawJson::parse`].
    pub fn event(&self) -> Option<RawJson<'_>> {
        self.0.event.map(|s| RawJson::new(s.get(&self.0.src)))
    }

    /// The `context` object.
    pub fn context(&self) -> Context<'_> {
        Context {
            src: &self.0.src,
            fields: &self.0.context,
        }
    }

    /// `context.session`.
    pub fn session(&self) -> Session<'_> {
        self.context().session()
    }

    /// `profile.privatePlay`, sent to Private Plays only.
    pub fn private_play(&self) -> Option<&PrivatePlay> {
        self.0.profile.as_ref()?.private_play.as_ref()
    }

    /// `profile.privatePlay.enrolledUser`: the invited, enrolled Biz user, if any.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.private_play()?.enrolled_user()
    }

    fn to_wire(&self) -> WireRequest<&str, RawText<'_>> {
        let raw = |span: Option<Span>| span.map(|s| RawText(s.get(&self.0.src)));
        let text = |span: Option<Span>| span.map(|s| s.get(&self.0.src));
        let context = &self.0.context;
        WireRequest {
            version: self.version(),
            action: WireAction {
                action_name: self.action_name(),
                parameters: WireParameters(
                    self.parameters()
                        .iter()
                        .map(|(name, p)| {
                            let parameter = WireParameter {
                                entity_type: p.entity_type(),
                                value: p.value(),
                            };
                            (name, parameter)
                        })
                        .collect(),
                ),
            },
            event: raw(self.0.event),
            context: WireContext {
                session: WireSession {
                    id: text(context.session.id),
                    is_new: context.session.is_new,
                    access_token: text(context.session.access_token),
                    is_play_builder_request: context.session.is_play_builder_request,
                },
                device: WireDevice {
                    device_type: text(context.device.device_type),
                    state: raw(context.device.state),
                },
                supported_interfaces: raw(context.supported_interfaces),
                private_play: raw(context.private_play),
            },
            profile: self.0.profile.as_ref().map(|profile| WireProfile {
                private_play: profile.private_play.as_ref().map(PrivatePlay::to_wire),
            }),
        }
    }

    /// The request `wire` describes, its strings copied into one source.
    fn from_wire(wire: &WireRequest<String, Box<RawValue>>) -> Option<Self> {
        SourceBuilder::build(
            |s| Self::found_in(wire, s),
            |src, found| Self(Arc::new(RequestFields::new(src.clone(), found))),
        )
    }

    /// The spans of `wire`'s strings, appended to `s`.
    fn found_in(wire: &WireRequest<String, Box<RawValue>>, s: &mut SourceBuilder) -> Found {
        let raw = |s: &mut SourceBuilder, raw: &Option<Box<RawValue>>| {
            raw.as_ref().map(|r| s.push(r.get()))
        };
        let context = &wire.context;
        Found {
            version: s.push(&wire.version),
            action: ActionFields {
                name: s.push(&wire.action.action_name),
                parameters: wire
                    .action
                    .parameters
                    .0
                    .iter()
                    .map(|(name, p)| ParameterFields {
                        name: s.push(name),
                        entity_type: s.opt(p.entity_type.as_deref()),
                        value: s.opt(p.value.as_deref()),
                    })
                    .collect(),
            },
            event: raw(s, &wire.event),
            context: ContextFields {
                session: SessionFields {
                    id: s.opt(context.session.id.as_deref()),
                    is_new: context.session.is_new,
                    access_token: s.opt(context.session.access_token.as_deref()),
                    is_play_builder_request: context.session.is_play_builder_request,
                },
                device: DeviceFields {
                    device_type: s.opt(context.device.device_type.as_deref()),
                    state: raw(s, &context.device.state),
                },
                supported_interfaces: raw(s, &context.supported_interfaces),
                private_play: raw(s, &context.private_play),
            },
            profile: wire.profile.as_ref().map(|profile| {
                profile
                    .private_play
                    .as_ref()
                    .map(|play| PrivatePlay::fields_of(play, s))
            }),
        }
    }
}

impl Serialize for ActionRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ActionRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireRequest::<String, Box<RawValue>>::deserialize(deserializer)?;
        Self::from_wire(&wire).ok_or_else(|| D::Error::custom(span::TOO_LARGE))
    }
}
