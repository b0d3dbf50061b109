//! `profile.privatePlay`: the speaker and, for an invited Biz user, who they are.

use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::mask::{MaskedEmail, MaskedName, MaskedPhone};
use super::model::{shown, EnrolledUserFields, PrivatePlayFields};
use super::span::Span;

/// `profile.privatePlay`: sent to Private Plays only.
///
/// `enrolled_user` is present for a user invited and enrolled through NUGU Biz, and absent for a
/// Biz-dedicated device, which sends only `deviceUniqueId`, `userKey` and `deviceKey`. It shares
/// the request's bytes: a clone is a reference count, which is what the layer's extension
/// insert and axum's `Extension` extractor cost.
///
/// A `privatePlay` without `userKey` or `deviceKey` (or with one `null`) is no profile: the
/// request still parses, but reads as having no `PrivatePlay` and no enrolled user (see
/// [`ActionRequest::private_play_set_aside`](crate::ActionRequest::private_play_set_aside)), so
/// that nothing trusts a speaker it cannot name. Deserialized on its own, such an object is an
/// error.
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
/// assert!(profile.enrolled_user().is_none()); // a Biz-dedicated device
///
/// assert!(serde_json::from_str::<PrivatePlay>(r#"{"deviceKey": "device.0.6L27"}"#).is_err());
/// ```
#[derive(Clone)]
pub struct PrivatePlay {
    pub(super) src: ByteString,
    pub(super) fields: PrivatePlayFields,
    /// `userKey` and `deviceKey`, which every profile has.
    keys: (Span, Span),
    enrolled_user: Option<EnrolledUser>,
}

impl PrivatePlay {
    /// Why a `privatePlay` is no profile.
    pub(super) const INCOMPLETE: &'static str =
        "a privatePlay without userKey or deviceKey is no profile";

    /// The profile whose strings lie in `src` at `fields`; `None` if `fields` lacks `userKey`
    /// or `deviceKey`.
    pub(super) fn new(src: &ByteString, fields: PrivatePlayFields) -> Option<Self> {
        let keys = (fields.user_key?, fields.device_key?);
        let enrolled_user = fields
            .enrolled_user
            .clone()
            .map(|user| EnrolledUser::new(src, user));
        Some(Self {
            src: src.clone(),
            fields,
            keys,
            enrolled_user,
        })
    }

    /// The hashed user id (`userKey`).
    pub fn user_key(&self) -> &str {
        self.keys.0.get(&self.src)
    }

    /// The hashed device id (`deviceKey`).
    pub fn device_key(&self) -> &str {
        self.keys.1.get(&self.src)
    }

    /// The invited, enrolled Biz user (`enrolledUser`), if any: `None` for a Biz-dedicated
    /// device.
    pub fn enrolled_user(&self) -> Option<&EnrolledUser> {
        self.enrolled_user.as_ref()
    }
}

/// `profile.privatePlay.enrolledUser`: a company user invited and enrolled through NUGU Biz.
///
/// NUGU's page marks `name`, `phoneNo` and `email` mandatory, but a user may lack one or send it
/// `null`: the request is accepted all the same (refusing it would refuse every request of that
/// user), the user is still enrolled, and [`name`](Self::name), [`phone_no`](Self::phone_no) and
/// [`email`](Self::email) return `None` for what is missing; [`is_complete`](Self::is_complete)
/// tells whether all three came. An empty string is kept as sent.
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
/// assert_eq!(user.name(), Some("홍길동"));
/// assert_eq!(user.service_type(), Some(&ServiceType::Service));
/// assert!(user.is_complete());
///
/// let debug = format!("{user:?}");
/// assert!(debug.contains("홍*동") && debug.contains("010****2222"));
/// assert!(!debug.contains("홍길동") && !debug.contains("L4WYJEK2") && !debug.contains("E1234"));
///
/// // Without its phone number (or with it null): still an enrolled user.
/// let user: EnrolledUser = serde_json::from_str(r#"{"name": "홍길동", "phoneNo": null}"#).unwrap();
/// assert_eq!((user.name(), user.phone_no(), user.email()), (Some("홍길동"), None, None));
/// assert!(!user.is_complete());
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

    /// Whether NUGU sent all of `name`, `phoneNo` and `email`.
    pub fn is_complete(&self) -> bool {
        self.name().is_some() && self.phone_no().is_some() && self.email().is_some()
    }

    /// The name in a log-safe form (`홍*동`), if there is one.
    pub fn masked_name(&self) -> Option<MaskedName<'_>> {
        shown::name(self.name())
    }

    /// The phone number in a log-safe form (`010****2222`), if there is one.
    pub fn masked_phone_no(&self) -> Option<MaskedPhone<'_>> {
        shown::phone(self.phone_no())
    }

    /// The email address in a log-safe form (`g***@example.com`), if there is one.
    pub fn masked_email(&self) -> Option<MaskedEmail<'_>> {
        shown::email(self.email())
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
