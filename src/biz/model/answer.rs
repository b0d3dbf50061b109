//! Answer bodies.

use serde::{Deserialize, Serialize};

use super::date::DateTime;
use super::enums::{ApiAgreeType, AuthType, InvitationStatus};
use super::ids::{GroupId, InvitationId, UserId};
use super::lenient::{group_ref, null_as_default, string_or_first, yes_no};
use super::sensitive::Sensitive;
use super::ServiceType;

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
    /// The user's group; `None` when unassigned (and in "get group", which omits it). A
    /// string reads as the group's id.
    #[serde(default, deserialize_with = "group_ref")]
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
    /// The user's group (a string reads as the group's id).
    #[serde(default, deserialize_with = "group_ref")]
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
