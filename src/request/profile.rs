//! `profile.privatePlay`: the speaker and, for an invited Biz user, who they are.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::mask::{MaskedEmail, MaskedName, MaskedPhone, Redacted};
use super::text::Text;

/// The `profile` object (Private Plays only).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) private_play: Option<PrivatePlay>,
}

/// `profile.privatePlay`: sent to Private Plays only.
///
/// `enrolled_user` is present for a user invited and enrolled through NUGU Biz, and absent for a
/// Biz-dedicated device.
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
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrivatePlay(Arc<PrivatePlayFields>);

/// The fields of a [`PrivatePlay`], behind one `Arc` so that handing the profile to a handler
/// (the layer puts a copy into the request's extensions) is a reference count, not a copy.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "PrivatePlay", rename_all = "camelCase")]
pub(super) struct PrivatePlayFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device_unique_id: Option<Text>,
    pub(super) user_key: Text,
    pub(super) device_key: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) enrolled_user: Option<EnrolledUser>,
}

impl PrivatePlay {
    pub(super) fn new(fields: PrivatePlayFields) -> Self {
        Self(Arc::new(fields))
    }
}

impl fmt::Debug for PrivatePlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivatePlay")
            .field("device_unique_id", &self.0.device_unique_id)
            .field("user_key", &self.0.user_key)
            .field("device_key", &self.0.device_key)
            .field("enrolled_user", &self.0.enrolled_user)
            .finish()
    }
}

impl PrivatePlay {
    /// The registration number printed under the speaker (`deviceUniqueId`), if sent.
    pub fn device_unique_id(&self) -> Option<&str> {
        self.0.device_unique_id.as_deref()
    }

    /// The hashed user id (`userKey`).
    pub fn user_key(&self) -> &str {
        &self.0.user_key
    }

    /// The hashed device id (`deviceKey`).
    pub fn device_key(&self) -> &str {
        &self.0.device_key
    }

    /// The invited, enrolled Biz user (`enrolledUser`), if any.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.0.enrolled_user.as_ref()
    }
}

/// `profile.privatePlay.enrolledUser`: a company user invited and enrolled through NUGU Biz.
///
/// Holds personal data (`name`, `phoneNo`, `email`) and possibly a credential (`userToken`):
/// `Debug` masks them, and the `masked_*` methods give log-safe forms. The values themselves are
/// reachable only through the accessors and `Serialize`.
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
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnrolledUser(Arc<EnrolledUserFields>);

/// The fields of an [`EnrolledUser`], behind one `Arc` (see [`PrivatePlayFields`]).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename = "EnrolledUser", rename_all = "camelCase")]
pub(super) struct EnrolledUserFields {
    pub(super) name: Text,
    pub(super) phone_no: Text,
    pub(super) email: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tag: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) user_token: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) service_type: Option<ServiceType>,
}

impl EnrolledUser {
    pub(super) fn new(fields: EnrolledUserFields) -> Self {
        Self(Arc::new(fields))
    }

    /// The user's name (`name`). Personal data.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The user's phone number (`phoneNo`). Personal data.
    pub fn phone_no(&self) -> &str {
        &self.0.phone_no
    }

    /// The user's email address (`email`). Personal data.
    pub fn email(&self) -> &str {
        &self.0.email
    }

    /// The publisher's own tag for the user (`tag`): an employee number, a shop code, an
    /// intranet id...
    pub fn tag(&self) -> Option<&str> {
        self.0.tag.as_deref()
    }

    /// The user's Biz API token (`userToken`, Biz Kit full edition). A credential: never log it.
    pub fn user_token(&self) -> Option<&str> {
        self.0.user_token.as_deref()
    }

    /// How the user was invited (`serviceType`, Biz Kit full edition).
    pub fn service_type(&self) -> Option<&ServiceType> {
        self.0.service_type.as_ref()
    }

    /// The name in a log-safe form (`홍*동`).
    pub fn masked_name(&self) -> MaskedName<'_> {
        MaskedName(&self.0.name)
    }

    /// The phone number in a log-safe form (`010****2222`).
    pub fn masked_phone_no(&self) -> MaskedPhone<'_> {
        MaskedPhone(&self.0.phone_no)
    }

    /// The email address in a log-safe form (`g***@example.com`).
    pub fn masked_email(&self) -> MaskedEmail<'_> {
        MaskedEmail(&self.0.email)
    }
}

impl fmt::Debug for EnrolledUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrolledUser")
            .field("name", &self.masked_name())
            .field("phone_no", &self.masked_phone_no())
            .field("email", &self.masked_email())
            .field("tag", &self.0.tag)
            .field("user_token", &self.0.user_token.as_ref().map(|_| Redacted))
            .field("service_type", &self.0.service_type)
            .finish()
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
        Text::deserialize(deserializer).map(|text| ServiceType::from_wire(&text))
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
