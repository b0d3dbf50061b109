//! Request bodies.

use serde::{Deserialize, Serialize, Serializer};

use super::ids::GroupId;
use super::lenient::null_as_default;
use super::sensitive::Sensitive;

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
