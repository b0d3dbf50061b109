//! The NUGU Biz API: invite users to a Private Play, manage their groups, link their accounts and
//! send them announcements (feature `biz`).
//!
//! Before a user appears as `enrolledUser` in a backend-proxy request, the publisher invites them
//! through the Biz API; they accept within 72 hours by logging in with a NUGU ID, and from then
//! on their speaker's requests carry their profile. The Biz API is given to full-edition
//! (정식판) publishers only ("Biz API는 제휴를 통한 정식판 권한 사용자에게 제공"), with the
//! publisher token of their "Biz Kit 기본 정보". [`BizClient`] makes every call of the Biz user
//! API:
//!
//! | area | methods |
//! |---|---|
//! | groups | [`create_group`](BizClient::create_group), [`update_group`](BizClient::update_group), [`delete_group`](BizClient::delete_group), [`list_groups`](BizClient::list_groups) / [`groups`](BizClient::groups), [`group`](BizClient::group), [`unassigned_users`](BizClient::unassigned_users) |
//! | invitations | [`invite`](BizClient::invite), [`invitations`](BizClient::invitations), [`cancel_invitation`](BizClient::cancel_invitation) |
//! | users | [`list_users`](BizClient::list_users) / [`users`](BizClient::users), [`user`](BizClient::user), [`update_user`](BizClient::update_user), [`delete_user`](BizClient::delete_user) |
//! | announcements (full edition) | [`announce_to_user`](BizClient::announce_to_user), [`announce_to_group`](BizClient::announce_to_group), [`announce_to_shared_device_group`](BizClient::announce_to_shared_device_group), [`shared_device_groups`](BizClient::shared_device_groups) |
//! | account linking (full edition) | [`LinkPolicy`] reads the authentication request, [`AuthRequest::for_signed_in_user`] binds it to your signed-in user, [`LinkConfirmations`] issues a one-use `confirmUrl`, [`SignedInLink::browser_page`] hands the token over through the user's browser (or [`complete_link`](BizClient::complete_link), server to server) |
//!
//! What NUGU posts back (a link's [`LinkConfirmation`], an announcement's
//! [`UserAnnouncementResult`], [`GroupAnnouncementResult`] or
//! [`SharedDeviceAnnouncementResult`]) reaches the publisher's code through [`CallbackService`],
//! a tower service to mount in axum or any tower stack.
//!
//! Requests are checked before sending ([`validate`]) and refused with the [`ErrorCode`] the API
//! would answer; answers map to typed values or a [`BizError`]. An update sends only what it
//! sets, and the API leaves the rest as it is ([`Change`]): renaming a user keeps the alias NUGU
//! sends as `enrolledUser.tag`, renaming a group keeps its plays. Personal data and tokens are
//! [`Sensitive`]: never in `Debug`, logs or error messages.
//!
//! With feature `biz-emulator`, [`emulator`] runs the documented API in memory on 127.0.0.1, so
//! the whole loop (invite, accept, link, the profile NUGU then sends, announcements and their
//! results) runs in a test.
//!
//! ```no_run
//! # async fn run() -> Result<(), nugu_proxy::biz::BizError> {
//! use futures_util::TryStreamExt;
//! use nugu_proxy::biz::{
//!     BizClient, GroupRequest, InvitationReason, InvitationRequest, InvitationTarget, Invitee,
//!     PublisherToken,
//! };
//!
//! let client = BizClient::new(PublisherToken::new(std::env::var("PUBLISHER_TOKEN").unwrap()))?;
//! let group = client
//!     .create_group(&GroupRequest::new("Store staff").play_service_ids(["com.example.orders"]))
//!     .await?;
//! client
//!     .invite(&InvitationRequest::new(
//!         InvitationTarget::Group(group.id),
//!         vec![Invitee::new("kim@example.com", "김철수", "01012345678").alias("E-1024")],
//!         InvitationReason::new("Store ordering play")?,
//!     ))
//!     .await?;
//! let enrolled: Vec<_> = client.users(50).try_collect().await?;
//! println!("{} enrolled users", enrolled.len());
//! # Ok(()) }
//! ```

mod callback;
mod client;
mod confirm;
mod error;
mod link;
mod link_page;
mod model;
mod paginate;
pub mod validate;

#[cfg(feature = "biz-emulator")]
pub mod emulator;

pub use callback::{CallbackService, MAX_CALLBACK_BODY};
pub use client::{
    BizClient, BizClientBuilder, PublisherToken, RetryPolicy, DEFAULT_BASE_URL,
    PUBLISHER_TOKEN_HEADER,
};
pub use confirm::{
    ConfirmUrl, ConfirmationService, ConfirmedLink, LinkConfirmations, LinkConfirmationsBuilder,
    MAX_PENDING_LINKS,
};
pub use error::{BizError, ErrorCode};
pub use link::{
    AuthRequest, LinkConfirmation, LinkError, LinkPolicy, LinkResultCode, SignedInLink,
};
pub use model::{
    Announcement, AnnouncementResultCode, ApiAgreeType, AuthType, CancelScope, Change, DateTime,
    DeviceResult, DeviceResultCode, Display, DisplayType, EmailEntry, Group,
    GroupAnnouncementResult, GroupDetail, GroupId, GroupPage, GroupRef, GroupRequest, GroupSummary,
    Invitation, InvitationId, InvitationReason, InvitationRequest, InvitationStatus,
    InvitationTarget, InvitedUser, Invitee, Sensitive, ServiceType, SharedDevice,
    SharedDeviceAnnouncementResult, SharedDeviceGroup, SharedDeviceResult, Tts, UpdatedUser,
    UserAnnouncementResult, UserApiToken, UserDetail, UserId, UserPage, UserPlay, UserSummary,
    UserUpdate, API_LOCAL_OFFSET,
};
pub use paginate::{pages, Page, Paged};

/// The date crate [`DateTime`] reads with, re-exported so its types need no dependency of yours.
pub use jiff;
