//! [`PrivatePlayLayer`]: parse, check and authenticate NUGU action requests once, in front of
//! the play's handlers.
//!
//! Laid out as tower-http lays out a middleware: the [`PrivatePlayLayer`] (configuration, cheap
//! to clone), the [`PrivatePlayService`] it wraps around yours, its [`ResponseFuture`] (a state
//! enum, not a boxed future) and [`ResponseBody`]. The checks themselves are plain functions.

mod auth;
mod body;
mod check;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod read;
mod service;
mod stand_in;
mod untrusted;

pub use auth::{ApiKey, Authentication, InvalidApiKey};
pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::{PrivatePlayLayer, DEFAULT_BODY_LIMIT};
pub use service::PrivatePlayService;
pub use stand_in::StandInUser;
