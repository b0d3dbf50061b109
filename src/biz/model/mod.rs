//! Typed requests and answers of the Biz API, field for field as the Biz pages show them.
//!
//! Answers are read leniently: unknown fields are ignored, `null` lists read as empty, the
//! documented enums keep values they do not know ([`ServiceType::Other`]...), and a date
//! keeps its raw text, so an invalid one never fails the whole answer (see [`DateTime`]). Personal data and tokens are held in [`Sensitive`], whose `Debug` shows
//! nothing of them.

/// How a user was invited (`serviceType`): the same type as `enrolledUser.serviceType` of a
/// backend-proxy request, open to values NUGU adds later.
pub use crate::ServiceType;

mod announcement;
mod answer;
mod date;
pub(crate) mod enums;
mod ids;
mod lenient;
mod request;
mod sensitive;

pub(crate) use announcement::SharedDeviceGroupList;
pub use announcement::{
    Announcement, AnnouncementResultCode, DeviceResult, DeviceResultCode, Display, DisplayType,
    GroupAnnouncementResult, SharedDevice, SharedDeviceAnnouncementResult, SharedDeviceGroup,
    SharedDeviceResult, Tts, UserAnnouncementResult, UserApiToken,
};
pub(crate) use answer::{Created, InvitationList};
pub use answer::{
    Group, GroupDetail, GroupPage, GroupRef, GroupSummary, Invitation, InvitedUser, UpdatedUser,
    UserDetail, UserPage, UserPlay, UserSummary,
};
pub use date::{DateTime, API_LOCAL_OFFSET};
pub use enums::{ApiAgreeType, AuthType, InvitationStatus};
pub use ids::{GroupId, InvitationId, UserId};
pub(crate) use request::EmailList;
pub use request::{
    CancelScope, Change, EmailEntry, GroupRequest, InvitationReason, InvitationRequest,
    InvitationTarget, Invitee, UserUpdate,
};
pub use sensitive::Sensitive;
