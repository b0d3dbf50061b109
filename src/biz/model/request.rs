//! Request bodies.

use serde::{Deserialize, Serialize, Serializer};

use super::ids::GroupId;
use super::lenient::null_as_default;
use super::sensitive::Sensitive;
use crate::biz::error::BizError;
use crate::biz::validate;

/// What an update does to an optional field: leave it as it is (the field is not sent), set
/// it, or clear it.
///
/// The Biz pages say of one field only (`targetGroupId`) that omitting it leaves it unchanged;
/// the crate reads omission so for every field of an update, since the other reading (omitted
/// means emptied) would silently wipe data NUGU uses, such as the alias it sends as
/// `enrolledUser.tag` or the plays of a group. So the client sends only what is set, and
/// clearing is a call of its own.
///
/// ```
/// use nugu_proxy::biz::{Change, UserUpdate};
/// assert_eq!(UserUpdate::new("Kim").alias, Change::Keep);
/// assert_eq!(UserUpdate::new("Kim").clear_alias().alias, Change::Clear);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Change<T> {
    /// Not sent: the API leaves the value as it is.
    #[default]
    Keep,
    /// Sent: the new value.
    Set(T),
    /// Sent empty (`""` for a text, `[]` for a list): the value is removed.
    Clear,
}

impl<T> Change<T> {
    /// Whether the field is left out of the body.
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }

    /// The value sent, if a new one is set.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Self::Set(value) => Some(value),
            Self::Keep | Self::Clear => None,
        }
    }
}

impl<T: Serialize + Default> Serialize for Change<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Set(value) => value.serialize(serializer),
            // `Keep` is skipped by the fields that hold it; were it serialized, `null`.
            Self::Keep => serializer.serialize_none(),
            Self::Clear => T::default().serialize(serializer),
        }
    }
}

/// The body of "create group" and "update group": `{name, alias?, playServiceIds?}`.
///
/// Only what is set is sent: an update that sets the name alone leaves the alias and the
/// plays as they are (sending `playServiceIds: []` would take the Private Plays from every
/// member). Removing every play takes [`remove_plays`](Self::remove_plays).
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
/// let rename = GroupRequest::new("Store staff (Seoul)");
/// assert_eq!(
///     serde_json::to_value(&rename).unwrap(),
///     serde_json::json!({"name": "Store staff (Seoul)"}),
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRequest {
    /// Group name (required, at most 100 characters, unique per publisher).
    pub name: String,
    /// Free-form alias (at most 100).
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub alias: Change<String>,
    /// The Private Plays the group's users get (each id at most 100).
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub play_service_ids: Change<Vec<String>>,
}

impl GroupRequest {
    /// A group body with a name only: created without alias and plays, or updated with the
    /// alias and plays left as they are.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            alias: Change::Keep,
            play_service_ids: Change::Keep,
        }
    }

    /// Sets the alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Change::Set(alias.into());
        self
    }

    /// Removes the alias (sent as `""`).
    pub fn clear_alias(mut self) -> Self {
        self.alias = Change::Clear;
        self
    }

    /// Sets the plays. An empty list changes nothing: removing every play from the group's
    /// members is [`remove_plays`](Self::remove_plays).
    pub fn play_service_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        self.play_service_ids = if ids.is_empty() {
            Change::Keep
        } else {
            Change::Set(ids)
        };
        self
    }

    /// Takes every Private Play from the group (sent as `playServiceIds: []`): its users can
    /// no longer use them.
    pub fn remove_plays(mut self) -> Self {
        self.play_service_ids = Change::Clear;
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

/// Why users are invited (`reason`), shown in the invitation email: required, not blank, at
/// most 400 characters.
///
/// The invitation page marks `reason` optional, but its `USER006` is "the invitation reason is
/// insufficient"; the crate takes the reading that cannot be refused, so an invitation always
/// has a reason, checked when it is made rather than answered by the API.
///
/// ```
/// use nugu_proxy::biz::{ErrorCode, InvitationReason};
/// let reason = InvitationReason::new("Store ordering play").unwrap();
/// assert_eq!(reason.as_str(), "Store ordering play");
/// let blank = InvitationReason::new("  ").unwrap_err();
/// assert_eq!(blank.code(), Some(&ErrorCode::User006));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct InvitationReason(String);

impl InvitationReason {
    /// A reason; [`BizError::Invalid`] with `USER006` when it is blank or longer than 400.
    pub fn new(reason: impl Into<String>) -> Result<Self, BizError> {
        let reason = reason.into();
        validate::reason(Some(&reason))?;
        Ok(Self(reason))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for InvitationReason {
    type Error = BizError;

    fn try_from(reason: &str) -> Result<Self, BizError> {
        Self::new(reason)
    }
}

impl TryFrom<String> for InvitationReason {
    type Error = BizError;

    fn try_from(reason: String) -> Result<Self, BizError> {
        Self::new(reason)
    }
}

/// The body of "invite users" (`POST /api/v1/enrolledUser/invitation`).
///
/// ```
/// use nugu_proxy::biz::{GroupId, InvitationReason, InvitationRequest, InvitationTarget, Invitee};
/// let req = InvitationRequest::new(
///     InvitationTarget::Group(GroupId::from("g-1")),
///     vec![Invitee::new("kim@example.com", "Kim", "01012345678")],
///     InvitationReason::new("Store ordering play").unwrap(),
/// );
/// let json = serde_json::to_value(&req).unwrap();
/// assert_eq!(json["reason"], "Store ordering play");
/// assert_eq!(json["targetGroupId"], "g-1");
/// assert!(json.get("targetPlayServiceIds").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRequest {
    /// Why, shown in the invitation email.
    pub reason: InvitationReason,
    /// Plays or group.
    pub target: InvitationTarget,
    /// The invitees.
    pub users: Vec<Invitee>,
}

impl InvitationRequest {
    /// An invitation of `users` to `target`, for `reason`.
    pub fn new(target: InvitationTarget, users: Vec<Invitee>, reason: InvitationReason) -> Self {
        Self {
            reason,
            target,
            users,
        }
    }
}

impl Serialize for InvitationRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("reason", &self.reason)?;
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
/// Only what is set is sent, and the API leaves what is not sent as it is (see [`Change`]):
/// renaming a user keeps the alias NUGU sends to the play as `enrolledUser.tag`; removing it
/// takes [`clear_alias`](Self::clear_alias).
///
/// ```
/// use nugu_proxy::biz::{GroupId, UserUpdate};
/// let update = UserUpdate::new("Kim").alias("E-1024").move_to(GroupId::from("g-2"));
/// assert_eq!(serde_json::to_value(&update).unwrap()["targetGroupId"], "g-2");
/// let rename = UserUpdate::new("Kim");
/// assert_eq!(serde_json::to_value(&rename).unwrap(), serde_json::json!({"name": "Kim"}));
/// let clear = UserUpdate::new("Kim").clear_alias();
/// assert_eq!(serde_json::to_value(&clear).unwrap()["alias"], "");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    /// Name (required, at most 100).
    pub name: Sensitive,
    /// Alias (at most 100).
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub alias: Change<Sensitive>,
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
            alias: Change::Keep,
            target_group_id: None,
        }
    }

    /// Sets the alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Change::Set(Sensitive::new(alias));
        self
    }

    /// Removes the alias (sent as `""`): NUGU then sends the play no `tag` for this user.
    pub fn clear_alias(mut self) -> Self {
        self.alias = Change::Clear;
        self
    }

    /// Moves the user to a group.
    pub fn move_to(mut self, group: GroupId) -> Self {
        self.target_group_id = Some(group);
        self
    }
}
