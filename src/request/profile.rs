//! `profile.privatePlay`: the speaker and, for an invited Biz user, who they are.

use std::fmt;

use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::mask::{MaskedEmail, MaskedName, MaskedPhone, Redacted};
use super::span::{SourceBuilder, Span, TOO_LARGE};
use super::wire::{WireEnrolledUser, WirePrivatePlay};

/// The `profile` object (Private Plays only).
#[derive(Clone, Default)]
pub(super) struct Profile {
    pub(super) private_play: Option<PrivatePlay>,
}

/// Where the parts of `profile.privatePlay` lie in the request's source, as parsed.
#[derive(Clone, Default)]
pub(super) struct PrivatePlayFields {
    pub(super) device_unique_id: Option<Span>,
    pub(super) user_key: Span,
    pub(super) device_key: Span,
    pub(super) enrolled_user: Option<EnrolledUserFields>,
}

/// Where the parts of `enrolledUser` lie in the request's source.
#[derive(Clone, Default)]
pub(super) struct EnrolledUserFields {
    pub(super) name: Span,
    pub(super) phone_no: Span,
    pub(super) email: Span,
    pub(super) tag: Option<Span>,
    pub(super) user_token: Option<Span>,
    pub(super) service_type: Option<ServiceType>,
}

/// `profile.privatePlay`: sent to Private Plays only.
///
/// `enrolled_user` is present for a user invited and enrolled through NUGU Biz, and absent for a
/// Biz-dedicated device. It shares the request's bytes: a clone is a reference count, which is
/// what the layer's extension insert and axum's `Extension` extractor cost.
///
/// ```
/// use nugu_proxy::PrivatePlay;
///
/// let profile: PrivatePlay = serde_json::from_str(r#"{
///     "deviceUniqueId": "NU200_XXXXXX",
///     "userKey": "user.0.A3JF",
///     "deviceKey": "device.0.6L27"
/// }"#).unwrap();
/// assert_eq!(profile.user_key(), "user.0.A3JF");
/// assert!(profile.enrolled_user().is_none());
/// ```
#[derive(Clone)]
pub struct PrivatePlay {
    src: ByteString,
    device_unique_id: Option<Span>,
    user_key: Span,
    device_key: Span,
    enrolled_user: Option<EnrolledUser>,
}

impl PrivatePlay {
    /// The profile whose strings lie in `src` at `fields`.
    pub(super) fn new(src: &ByteString, fields: PrivatePlayFields) -> Self {
        Self {
            src: src.clone(),
            device_unique_id: fields.device_unique_id,
            user_key: fields.user_key,
            device_key: fields.device_key,
            enrolled_user: fields
                .enrolled_user
                .map(|fields| EnrolledUser::new(src, fields)),
        }
    }

    /// The registration number printed under the speaker (`deviceUniqueId`), if sent.
    pub fn device_unique_id(&self) -> Option<&str> {
        self.device_unique_id.map(|s| s.get(&self.src))
    }

    /// The hashed user id (`userKey`).
    pub fn user_key(&self) -> &str {
        self.user_key.get(&self.src)
    }

    /// The hashed device id (`deviceKey`).
    pub fn device_key(&self) -> &str {
        self.device_key.get(&self.src)
    }

    /// The invited, enrolled Biz user (`enrolledUser`), if any.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.enrolled_user.as_ref()
    }

    pub(super) fn to_wire(&self) -> WirePrivatePlay<&str> {
        WirePrivatePlay {
            device_unique_id: self.device_unique_id(),
            user_key: self.user_key(),
            device_key: self.device_key(),
            enrolled_user: self.enrolled_user.as_ref().map(EnrolledUser::to_wire),
        }
    }

    /// The spans of `wire`'s strings, appended to `source`.
    pub(super) fn fields_of(
        wire: &WirePrivatePlay<String>,
        source: &mut SourceBuilder,
    ) -> PrivatePlayFields {
        PrivatePlayFields {
            device_unique_id: source.opt(wire.device_unique_id.as_deref()),
            user_key: source.push(&wire.user_key),
            device_key: source.push(&wire.device_key),
            enrolled_user: wire
                .enrolled_user
                .as_ref()
                .map(|user| EnrolledUser::fields_of(user, source)),
        }
    }
}

impl fmt::Debug for PrivatePlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivatePlay")
            .field("device_unique_id", &self.device_unique_id())
            .field("user_key", &self.user_key())
            .field("device_key", &self.device_key())
            .field("enrolled_user", &self.enrolled_user)
            .finish()
    }
}

impl Serialize for PrivatePlay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PrivatePlay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WirePrivatePlay::<String>::deserialize(deserializer)?;
        SourceBuilder::build(|source| Self::fields_of(&wire, source), Self::new)
            .ok_or_else(|| serde::de::Error::custom(TOO_LARGE))
    }
}

/// `profile.privatePlay.enrolledUser`: a company user invited and enrolled through NUGU Biz.
///
/// Holds personal data (`name`, `phoneNo`, `email`) and possibly a credential (`userToken`):
/// `Debug` masks them, and the `masked_*` methods give log-safe forms. The values themselves are
/// reachable only through the accessors and `Serialize`. It shares the request's bytes: a clone
/// is a reference count.
///
/// ```
/// use nugu_proxy::{EnrolledUser, ServiceType};
///
/// let user: EnrolledUser = serde_json::from_str(r#"{
///     "name": "홍길동", "phoneNo": "01011112222", "email": "gildong@example.com",
///     "tag": "E1234", "userToken": "L4WYJEK2", "serviceType": "SERVICE"
/// }"#).unwrap();
/// assert_eq!(user.name(), "홍길동");
/// assert_eq!(user.service_type(), Some(&ServiceType::Service));
///
/// let debug = format!("{user:?}");
/// assert!(debug.contains("홍*동") && debug.contains("010****2222"));
/// assert!(!debug.contains("홍길동") && !debug.contains("L4WYJEK2"));
/// ```
#[derive(Clone)]
pub struct EnrolledUser {
    src: ByteString,
    fields: EnrolledUserFields,
}

impl EnrolledUser {
    pub(super) fn new(src: &ByteString, fields: EnrolledUserFields) -> Self {
        Self {
            src: src.clone(),
            fields,
        }
    }

    /// The user's name (`name`). Personal data.
    pub fn name(&self) -> &str {
        self.fields.name.get(&self.src)
    }

    /// The user's phone number (`phoneNo`). Personal data.
    pub fn phone_no(&self) -> &str {
        self.fields.phone_no.get(&self.src)
    }

    /// The user's email address (`email`). Personal data.
    pub fn email(&self) -> &str {
        self.fields.email.get(&self.src)
    }

    /// The publisher's own tag for the user (`tag`): an employee number, a shop code, an
    /// intranet id...
    pub fn tag(&self) -> Option<&str> {
        self.fields.tag.map(|s| s.get(&self.src))
    }

    /// The user's Biz API token (`userToken`, Biz Kit full edition). A credential: never log it.
    pub fn user_token(&self) -> Option<&str> {
        self.fields.user_token.map(|s| s.get(&self.src))
    }

    /// How the user was invited (`serviceType`, Biz Kit full edition).
    pub fn service_type(&self) -> Option<&ServiceType> {
        self.fields.service_type.as_ref()
    }

    /// The name in a log-safe form (`홍*동`).
    pub fn masked_name(&self) -> MaskedName<'_> {
        MaskedName(self.name())
    }

    /// The phone number in a log-safe form (`010****2222`).
    pub fn masked_phone_no(&self) -> MaskedPhone<'_> {
        MaskedPhone(self.phone_no())
    }

    /// The email address in a log-safe form (`g***@example.com`).
    pub fn masked_email(&self) -> MaskedEmail<'_> {
        MaskedEmail(self.email())
    }

    fn to_wire(&self) -> WireEnrolledUser<&str> {
        WireEnrolledUser {
            name: self.name(),
            phone_no: self.phone_no(),
            email: self.email(),
            tag: self.tag(),
            user_token: self.user_token(),
            service_type: self.fields.service_type.as_ref().map(ServiceType::as_str),
        }
    }

    fn fields_of(
        wire: &WireEnrolledUser<String>,
        source: &mut SourceBuilder,
    ) -> EnrolledUserFields {
        EnrolledUserFields {
            name: source.push(&wire.name),
            phone_no: source.push(&wire.phone_no),
            email: source.push(&wire.email),
            tag: source.opt(wire.tag.as_deref()),
            user_token: source.opt(wire.user_token.as_deref()),
            service_type: wire.service_type.as_deref().map(ServiceType::from_wire),
        }
    }
}

impl fmt::Debug for EnrolledUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrolledUser")
            .field("name", &self.masked_name())
            .field("phone_no", &self.masked_phone_no())
            .field("email", &self.masked_email())
            .field("tag", &self.tag())
            .field("user_token", &self.user_token().map(|_| Redacted))
            .field("service_type", &self.service_type())
            .finish()
    }
}

impl Serialize for EnrolledUser {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EnrolledUser {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireEnrolledUser::<String>::deserialize(deserializer)?;
        SourceBuilder::build(|source| Self::fields_of(&wire, source), Self::new)
            .ok_or_else(|| serde::de::Error::custom(TOO_LARGE))
    }
}

/// How an enrolled user was invited (`serviceType`): `PLAY` or `SERVICE`, or any value NUGU adds
/// later, kept as it came.
///
/// ```
/// use nugu_proxy::ServiceType;
///
/// let kinds: Vec<ServiceType> = serde_json::from_str(r#"["PLAY", "SERVICE", "KIOSK"]"#).unwrap();
/// assert_eq!(kinds, [ServiceType::Play, ServiceType::Service, ServiceType::Other("KIOSK".into())]);
/// assert_eq!(kinds[2].as_str(), "KIOSK");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServiceType {
    /// `PLAY`: invited to use plays.
    Play,
    /// `SERVICE`: invited to a Biz service.
    Service,
    /// A value this version of the crate does not know.
    Other(String),
}

impl ServiceType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            ServiceType::Play => "PLAY",
            ServiceType::Service => "SERVICE",
            ServiceType::Other(other) => other,
        }
    }
}

impl Serialize for ServiceType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(ServiceType::from_wire(&wire))
    }
}

impl ServiceType {
    pub(super) fn from_wire(value: &str) -> Self {
        match value {
            "PLAY" => ServiceType::Play,
            "SERVICE" => ServiceType::Service,
            other => ServiceType::Other(other.to_owned()),
        }
    }
}
