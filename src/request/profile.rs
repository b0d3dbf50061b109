//! `profile.privatePlay`: the speaker and, for an invited Biz user, who they are.

use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::mask::{MaskedEmail, MaskedName, MaskedPhone};
use super::model::{EnrolledUserFields, PrivatePlayFields};

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
    pub(super) src: ByteString,
    pub(super) fields: PrivatePlayFields,
    enrolled_user: Option<EnrolledUser>,
}

impl PrivatePlay {
    /// The profile whose strings lie in `src` at `fields`.
    pub(super) fn new(src: &ByteString, fields: PrivatePlayFields) -> Self {
        let enrolled_user = fields
            .enrolled_user
            .clone()
            .map(|user| EnrolledUser::new(src, user));
        Self {
            src: src.clone(),
            fields,
            enrolled_user,
        }
    }

    /// The invited, enrolled Biz user (`enrolledUser`), if any.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.enrolled_user.as_ref()
    }
}

/// `profile.privatePlay.enrolledUser`: a company user invited and enrolled through NUGU Biz.
///
/// Holds personal data (`name`, `phoneNo`, `email`, `tag`) and possibly a credential (`userToken`):
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
/// assert!(!debug.contains("홍길동") && !debug.contains("L4WYJEK2") && !debug.contains("E1234"));
/// ```
#[derive(Clone)]
pub struct EnrolledUser {
    pub(super) src: ByteString,
    pub(super) fields: EnrolledUserFields,
}

impl EnrolledUser {
    pub(super) fn new(src: &ByteString, fields: EnrolledUserFields) -> Self {
        Self {
            src: src.clone(),
            fields,
        }
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
