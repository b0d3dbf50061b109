//! Typed requests and answers of the Biz API, field for field as the Biz pages show them.
//!
//! Answers are read leniently: unknown fields are ignored, `null` lists read as empty, the
//! documented enums keep values they do not know ([`ServiceType::Other`]...), and a date that
//! does not parse (the pages show `2021-0804T16:34:30.388`) keeps its raw text instead of failing
//! the whole answer. Personal data and tokens are held in [`Sensitive`], whose `Debug` shows
//! nothing of them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a user was invited (`serviceType`): the same type as `enrolledUser.serviceType` of a
/// backend-proxy request, open to values NUGU adds later.
pub use crate::ServiceType;

/// A string that is personal data (name, email, phone, alias) or a credential (a group or user
/// token). `Debug` prints `<redacted>`; there is no `Display`, so it cannot slip into a log line
/// by accident. Read it with [`Sensitive::expose`].
///
/// ```
/// use nugu_proxy::biz::Sensitive;
/// let email = Sensitive::from("kim@example.com");
/// assert_eq!(format!("{email:?}"), "<redacted>");
/// assert_eq!(email.expose(), "kim@example.com");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Take care where it goes.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Sensitive {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Read from a JSON string, or from a number (the pages type ids as strings, but the
        /// invitation id is a number, so an integer id is accepted too).
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                id_text(deserializer).map(Self)
            }
        }

        impl $name {
            /// Wraps an id as the API returned it.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    };
}

string_id! {
    /// A user group's id (`id` of a group, `targetGroupId`).
    GroupId
}
string_id! {
    /// A Biz user's id (`userId` in paths).
    UserId
}

/// An invitation's id (`{"id": 333}`), used to list and cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvitationId(pub i64);

impl fmt::Display for InvitationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        ///
        /// Values the documentation does not list are kept in `Other`.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version of the crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Ok(Self::from(value.as_str()))
            }
        }
    };
}

open_enum! {
    /// Whether the user agreed to receive Biz API messages (`apiAgreeType`). The user list page
    /// also shows `AGREE`, which reads as `Other("AGREE")`.
    ApiAgreeType {
        /// `ALL`: agreed.
        All = "ALL",
        /// `SOME`: agreed for some plays.
        Some = "SOME",
        /// `NONE`: not agreed.
        None = "NONE",
    }
}

open_enum! {
    /// Whether the user authenticated with the partner's account (`authType`).
    AuthType {
        /// `ALL`: authenticated.
        All = "ALL",
        /// `SOME`: authenticated for some plays.
        Some = "SOME",
        /// `NONE`: not authenticated.
        None = "NONE",
    }
}

open_enum! {
    /// Whether an invitation email is still valid (`status` of an invited user).
    InvitationStatus {
        /// `ENABLE`: valid, waiting for the user.
        Enable = "ENABLE",
        /// `DISABLE`: no longer valid (expired after 72 hours).
        Disable = "DISABLE",
    }
}

/// A date-time of the API (ISO-8601 local date-time, e.g. `2021-08-04T16:34:30.388`).
///
/// The raw text is always kept; [`DateTime::parts`] is `None` when it does not parse, as with the
/// documentation's own `2021-0804T16:34:30.388`, so one malformed date never fails an answer.
///
/// ```
/// use nugu_proxy::biz::DateTime;
/// let ok: DateTime = serde_json::from_str("\"2021-08-04T16:34:30.388\"").unwrap();
/// assert_eq!(ok.parts().unwrap().month, 8);
/// let odd: DateTime = serde_json::from_str("\"2021-0804T16:34:30.388\"").unwrap();
/// assert!(odd.parts().is_none());
/// assert_eq!(odd.raw(), "2021-0804T16:34:30.388");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateTime {
    raw: String,
    parts: Option<DateTimeParts>,
}

/// The fields of a well-formed [`DateTime`]. A zone suffix (`Z`, `+09:00`) is accepted and
/// ignored: the API's times are local times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTimeParts {
    /// Year, e.g. 2021.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 60 (a leap second).
    pub second: u8,
    /// Millisecond, 0 to 999 (finer digits are dropped).
    pub millisecond: u16,
}

impl DateTime {
    /// Reads a date-time, keeping the text whether or not it parses.
    pub fn parse(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let parts = parse_parts(&raw);
        Self { raw, parts }
    }

    /// The text as the API sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The parsed fields, if the text is a well-formed ISO-8601 date-time.
    pub fn parts(&self) -> Option<DateTimeParts> {
        self.parts
    }
}

impl From<DateTimeParts> for DateTime {
    fn from(p: DateTimeParts) -> Self {
        let raw = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
            p.year, p.month, p.day, p.hour, p.minute, p.second, p.millisecond
        );
        Self {
            raw,
            parts: Some(p),
        }
    }
}

fn parse_parts(raw: &str) -> Option<DateTimeParts> {
    let b = raw.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && (sep(10, b'T') || sep(10, b' ')) && sep(13, b':')) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut rest = 16;
    let mut second = 0;
    let mut millisecond = 0;
    if sep(16, b':') {
        second = num(17..19)?;
        rest = 19;
        if sep(19, b'.') {
            let digits: Vec<u8> = b[20..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect();
            if digits.is_empty() {
                return None;
            }
            // Milliseconds: the first three digits, padded ("3" is 300 ms); finer ones dropped.
            millisecond = (0..3).fold(0, |ms, i| {
                ms * 10 + u32::from(digits.get(i).map_or(0, |d| d - b'0'))
            });
            rest = 20 + digits.len();
        }
    }
    let zone = &raw[rest..];
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':');
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    (zone_ok && valid).then_some(DateTimeParts {
        year: year as i32,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        millisecond: millisecond as u16,
    })
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(String::deserialize(deserializer)?))
    }
}

/// An id written as a string or as an integer.
fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Signed(i64),
        Unsigned(u64),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Signed(n) => n.to_string(),
        Id::Unsigned(n) => n.to_string(),
    })
}

/// A string field that the pages' tables type as "array of string" while their examples show a
/// string (`groups[].token`, `groups[].alias`, `targetGroupId` of "update user"): a string, or
/// the first string of an array; anything else reads as `None`.
pub(crate) fn string_or_first<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<String>,
{
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(T::from(text)),
        serde_json::Value::Array(items) => items.into_iter().find_map(|item| match item {
            serde_json::Value::String(text) => Some(T::from(text)),
            _ => None,
        }),
        _ => None,
    })
}

/// `null` or absent reads as the type's default (an empty list, mostly).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `Y`/`N` flags of the user detail answer; anything else reads as `None`.
mod yes_no {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(flag: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match flag {
            Some(true) => s.serialize_str("Y"),
            Some(false) => s.serialize_str("N"),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match Option::<String>::deserialize(d)?.as_deref() {
            Some("Y") | Some("y") => Some(true),
            Some("N") | Some("n") => Some(false),
            _ => None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// The body of "create group" and "update group": `{name, alias, playServiceIds}`.
///
/// ```
/// use nugu_proxy::biz::GroupRequest;
/// let group = GroupRequest::new("Store staff")
///     .alias("stores")
///     .play_service_ids(["com.example.orders"]);
/// assert_eq!(
///     serde_json::to_value(&group).unwrap(),
///     serde_json::json!({"name": "Store staff", "alias": "stores",
///                        "playServiceIds": ["com.example.orders"]}),
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRequest {
    /// Group name (required, at most 100 characters, unique per publisher).
    pub name: String,
    /// Free-form alias (at most 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The Private Plays the group's users get (each id at most 100).
    pub play_service_ids: Vec<String>,
}

impl GroupRequest {
    /// A group with a name, no alias and no plays.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            alias: None,
            play_service_ids: Vec::new(),
        }
    }

    /// Sets the alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Sets the plays.
    pub fn play_service_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.play_service_ids = ids.into_iter().map(Into::into).collect();
        self
    }
}

/// Whom an invitation puts the users with, and so which plays they get.
///
/// The API takes `targetPlayServiceIds` **or** `targetGroupId`; sending both is `GROUP004`.
/// With this enum both at once cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvitationTarget {
    /// Unassigned ("미분류") users who get these plays (`targetPlayServiceIds`).
    Plays(Vec<String>),
    /// Users of an existing group, who get the group's plays (`targetGroupId`).
    Group(GroupId),
}

/// One invitee: `{email, name, phone, alias}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invitee {
    /// Email (required, at most 350); the key of a Biz user.
    pub email: Sensitive,
    /// Name (required, at most 100).
    pub name: Sensitive,
    /// Phone number, digits only (required, at most 12).
    pub phone: Sensitive,
    /// Alias (at most 100): employee number, shop code... NUGU sends it as `enrolledUser.tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<Sensitive>,
}

impl Invitee {
    /// An invitee without alias.
    ///
    /// ```
    /// use nugu_proxy::biz::Invitee;
    /// let kim = Invitee::new("kim@example.com", "김철수", "01012345678").alias("E-1024");
    /// assert_eq!(kim.alias.unwrap().expose(), "E-1024");
    /// ```
    pub fn new(
        email: impl Into<String>,
        name: impl Into<String>,
        phone: impl Into<String>,
    ) -> Self {
        Self {
            email: Sensitive::new(email),
            name: Sensitive::new(name),
            phone: Sensitive::new(phone),
            alias: None,
        }
    }

    /// Sets the alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(Sensitive::new(alias));
        self
    }
}

/// The body of "invite users" (`POST /api/v1/enrolledUser/invitation`).
///
/// ```
/// use nugu_proxy::biz::{GroupId, InvitationRequest, InvitationTarget, Invitee};
/// let req = InvitationRequest::new(
///     InvitationTarget::Group(GroupId::from("g-1")),
///     vec![Invitee::new("kim@example.com", "Kim", "01012345678")],
/// )
/// .reason("Store ordering play");
/// let json = serde_json::to_value(&req).unwrap();
/// assert_eq!(json["targetGroupId"], "g-1");
/// assert!(json.get("targetPlayServiceIds").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRequest {
    /// Why (at most 400), shown in the invitation email.
    pub reason: Option<String>,
    /// Plays or group.
    pub target: InvitationTarget,
    /// The invitees.
    pub users: Vec<Invitee>,
}

impl InvitationRequest {
    /// An invitation of `users` to `target`, without reason.
    pub fn new(target: InvitationTarget, users: Vec<Invitee>) -> Self {
        Self {
            reason: None,
            target,
            users,
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

impl Serialize for InvitationRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(reason) = &self.reason {
            map.serialize_entry("reason", reason)?;
        }
        match &self.target {
            InvitationTarget::Plays(ids) => map.serialize_entry("targetPlayServiceIds", ids)?,
            InvitationTarget::Group(id) => map.serialize_entry("targetGroupId", id)?,
        }
        map.serialize_entry("users", &self.users)?;
        map.end()
    }
}

/// Which invitees of an invitation to cancel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelScope {
    /// Every invitee who has not accepted yet (an empty `users` list).
    AllPending,
    /// These emails only.
    Emails(Vec<Sensitive>),
}

/// An email in the body and answer of "cancel invitation": `{"email": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailEntry {
    /// The email.
    pub email: Sensitive,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct EmailList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) users: Vec<EmailEntry>,
}

/// The body of "update user" (`PUT /api/v1/enrolledUser/user/{userId}`).
///
/// ```
/// use nugu_proxy::biz::{GroupId, UserUpdate};
/// let update = UserUpdate::new("Kim").alias("E-1024").move_to(GroupId::from("g-2"));
/// assert_eq!(serde_json::to_value(&update).unwrap()["targetGroupId"], "g-2");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    /// Name (required, at most 100).
    pub name: Sensitive,
    /// Alias (at most 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<Sensitive>,
    /// Group to move the user to; `None` leaves the group unchanged. A user invited to plays
    /// (`PLAY`) is re-invited into the group and moves when they accept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group_id: Option<GroupId>,
}

impl UserUpdate {
    /// Sets the name, leaving alias and group unchanged.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Sensitive::new(name),
            alias: None,
            target_group_id: None,
        }
    }

    /// Sets the alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(Sensitive::new(alias));
        self
    }

    /// Moves the user to a group.
    pub fn move_to(mut self, group: GroupId) -> Self {
        self.target_group_id = Some(group);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// A group as "create group" and "update group" answer it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Group id.
    pub id: GroupId,
    /// Group name.
    pub name: String,
    /// The group's API token (a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// The group's plays.
    #[serde(default, deserialize_with = "null_as_default")]
    pub play_service_ids: Vec<String>,
}

/// One page of "list groups".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPage {
    /// Number of pages.
    #[serde(default)]
    pub total_pages: u32,
    /// Number of groups.
    #[serde(default)]
    pub total_elements: u64,
    /// Number of users in no group.
    #[serde(default)]
    pub unmapped_user_count: u64,
    /// This page's groups.
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<GroupSummary>,
}

/// A group in "list groups".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    /// Group id.
    pub id: GroupId,
    /// Group name.
    pub name: String,
    /// The group's API token (a credential).
    #[serde(default, deserialize_with = "string_or_first")]
    pub token: Option<Sensitive>,
    /// Alias.
    #[serde(default, deserialize_with = "string_or_first")]
    pub alias: Option<String>,
    /// Number of plays.
    #[serde(default)]
    pub play_count: u32,
    /// Number of users.
    #[serde(default)]
    pub user_count: u64,
    /// When the group was created.
    #[serde(default)]
    pub created_date_time: Option<DateTime>,
}

/// "Get group": a group with its users. For the unassigned users (`unmappedUser`) the id,
/// name, token and alias are `None` and the plays empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDetail {
    /// Group id.
    #[serde(default)]
    pub id: Option<GroupId>,
    /// Group name.
    #[serde(default)]
    pub name: Option<String>,
    /// The group's API token (a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// The group's plays.
    #[serde(default, deserialize_with = "null_as_default")]
    pub play_service_ids: Vec<String>,
    /// The group's users.
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<UserSummary>,
}

/// A group reference in a user: `{id, name}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// Group id.
    pub id: GroupId,
    /// Group name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A Biz user as "list users" and "get group" show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    /// User id.
    pub id: UserId,
    /// Name.
    #[serde(default)]
    pub name: Option<Sensitive>,
    /// Email.
    #[serde(default)]
    pub email: Option<Sensitive>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<Sensitive>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<Sensitive>,
    /// The user's group; `None` when unassigned (and in "get group", which omits it).
    #[serde(default)]
    pub group: Option<GroupRef>,
    /// How the user was invited.
    #[serde(default)]
    pub service_type: Option<ServiceType>,
    /// Biz API consent.
    #[serde(default)]
    pub api_agree_type: Option<ApiAgreeType>,
    /// Partner authentication.
    #[serde(default)]
    pub auth_type: Option<AuthType>,
    /// When the user accepted the invitation.
    #[serde(default)]
    pub accepted_date_time: Option<DateTime>,
}

/// One page of "list users".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// Number of pages.
    #[serde(default)]
    pub total_pages: u32,
    /// Number of users.
    #[serde(default)]
    pub total_elements: u64,
    /// This page's users.
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<UserSummary>,
}

/// "Get user": one user with plays and consent flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    /// User id.
    pub id: UserId,
    /// Name.
    #[serde(default)]
    pub name: Option<Sensitive>,
    /// The user's token (`null` for `PLAY` users; a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// Email.
    #[serde(default)]
    pub email: Option<Sensitive>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<Sensitive>,
    /// Phone number (digits only).
    #[serde(default)]
    pub phone: Option<Sensitive>,
    /// The user's group.
    #[serde(default)]
    pub group: Option<GroupRef>,
    /// How the user was invited.
    #[serde(default)]
    pub service_type: Option<ServiceType>,
    /// Consented to the service (`serviceAgreeYn`).
    #[serde(default, with = "yes_no")]
    pub service_agree_yn: Option<bool>,
    /// Consented to service API messages (`serviceApiAgreeYn`).
    #[serde(default, with = "yes_no")]
    pub service_api_agree_yn: Option<bool>,
    /// Devices allowed to receive service API messages.
    #[serde(default)]
    pub service_api_allowed_device_count: Option<u32>,
    /// When the user accepted the service.
    #[serde(default)]
    pub service_accepted_date_time: Option<DateTime>,
    /// The plays the user accepted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub plays: Vec<UserPlay>,
}

/// A play of a user in "get user".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPlay {
    /// The play.
    pub play_service_id: String,
    /// The user's token for this play (a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// Consented to the play.
    #[serde(default, with = "yes_no")]
    pub agree_yn: Option<bool>,
    /// Consented to the play's API messages.
    #[serde(default, with = "yes_no")]
    pub api_agree_yn: Option<bool>,
    /// Devices allowed to receive the play's API messages.
    #[serde(default)]
    pub api_allowed_device_count: Option<u32>,
    /// When the user accepted the play.
    #[serde(default)]
    pub accepted_date_time: Option<DateTime>,
}

/// The answer of "update user".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedUser {
    /// User id.
    pub id: UserId,
    /// Email.
    #[serde(default)]
    pub email: Option<Sensitive>,
    /// Name.
    #[serde(default)]
    pub name: Option<Sensitive>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<Sensitive>,
    /// The group asked for.
    #[serde(default, deserialize_with = "string_or_first")]
    pub target_group_id: Option<GroupId>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Created {
    pub(crate) id: InvitationId,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct InvitationList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) invitations: Vec<Invitation>,
}

/// An invitation in progress, from "list invitations".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// Invitation id.
    pub id: InvitationId,
    /// The reason given.
    #[serde(default)]
    pub cause: Option<String>,
    /// When it was sent.
    #[serde(default)]
    pub created_date: Option<DateTime>,
    /// Plays of an unassigned invitation.
    #[serde(default, deserialize_with = "null_as_default")]
    pub target_play_service_ids: Vec<String>,
    /// Group of a group invitation.
    #[serde(default)]
    pub target_group_id: Option<GroupId>,
    /// The invitees.
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<InvitedUser>,
}

/// An invitee in "list invitations".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitedUser {
    /// Email.
    pub email: Sensitive,
    /// Name.
    #[serde(default)]
    pub name: Option<Sensitive>,
    /// The user's API token; absent for a new invitation (a credential).
    #[serde(default)]
    pub token: Option<Sensitive>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<Sensitive>,
    /// Whether the invitation email is still valid.
    #[serde(default)]
    pub status: Option<InvitationStatus>,
}

#[cfg(test)]
mod tests {
    use super::DateTime;

    #[test]
    fn dates_parse_or_keep_their_text_without_panicking() {
        let ms = |raw: &str| DateTime::parse(raw).parts().map(|p| p.millisecond);
        assert_eq!(ms("2021-08-04T16:34:30.388"), Some(388));
        assert_eq!(ms("2021-08-04T16:34:30.3"), Some(300));
        assert_eq!(ms("2021-08-04T16:34:30.123456789012345"), Some(123));
        assert_eq!(ms("2017-11-06T06:00:00.000Z"), Some(0));
        assert_eq!(ms("2021-08-04T16:34:30+09:00"), Some(0));
        assert_eq!(ms("2021-08-04 16:34"), Some(0));
        for odd in [
            "",
            "2021",
            "2021-0804T16:34:30.388",
            "2021-08-04T16:34:30.",
            "2021-13-04T16:34:30",
            "2021-08-04T16:34:30.388가",
            "2021-08-04T16:3가",
            "가나다라마바사아자차카타파하",
            "2021-08-04T16:34:30.388+0900",
            "-021-08-04T16:34:30",
            "2021-08-04T24:00:00",
        ] {
            let parsed = DateTime::parse(odd);
            assert_eq!(parsed.parts(), None, "{odd}");
            assert_eq!(parsed.raw(), odd);
        }
    }
}
