//! A local emulator of the Biz API (feature `biz-emulator`): a real HTTP server on 127.0.0.1
//! that behaves as the documented API, with in-memory state and an injectable clock.
//!
//! It checks the publisher token (403), enforces unique group names (401), answers every
//! documented `400` code, re-invites an email with its name and alias updated, limits a trial
//! publisher to 10 users counting pending invitations and enrolled users (`USER007`), lets an
//! invitation expire after 72 hours, cancels only pending invitees (406 after acceptance), and
//! gives users invited into a group that group's plays. Beyond the API it plays the user
//! ([`Emulator::accept_invitation`], [`Emulator::revoke`]) and NUGU
//! ([`Emulator::private_play_profile`]: the `profile.privatePlay` of the user's requests).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nugu_proxy::biz::emulator::Emulator;
//! use nugu_proxy::biz::{InvitationRequest, InvitationTarget, Invitee};
//!
//! let emulator = Emulator::start().await?;
//! emulator.add_play("com.example.orders");
//! let client = emulator.client_builder().build()?;
//! client
//!     .invite(&InvitationRequest::new(
//!         InvitationTarget::Plays(vec!["com.example.orders".into()]),
//!         vec![Invitee::new("kim@example.com", "김철수", "01012345678").alias("E-1024")],
//!     ))
//!     .await?;
//! emulator.accept_invitation("kim@example.com")?;
//! let profile = emulator.private_play_profile("kim@example.com", "com.example.orders", "NU200_000001")?;
//! assert_eq!(profile["enrolledUser"]["tag"], "E-1024");
//! # Ok(()) }
//! ```

mod clock;
mod routes;
mod state;

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

pub use clock::{Clock, ManualClock, SystemClock};

use super::client::{BizClient, BizClientBuilder, PublisherToken, RetryPolicy};
use super::model::UserId;
use state::State;

/// How long an invitation email stays valid: 72 hours.
pub const INVITATION_VALIDITY: Duration = state::INVITATION_VALIDITY;

/// How many users a trial publisher may hold, pending invitations and enrolled users together.
pub const TRIAL_USER_LIMIT: usize = state::TRIAL_USER_LIMIT;

/// The publisher's Biz Kit edition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Edition {
    /// 체험판: at most 10 users; users are `PLAY` users without token.
    #[default]
    Trial,
    /// 정식판: no user limit; users are `SERVICE` users with a user token, and NUGU sends
    /// `userToken` and `serviceType` in `enrolledUser`.
    Full,
}

/// What the emulator knows of a play id the publisher uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayStatus {
    /// The publisher's play, in service.
    InService,
    /// The publisher's play, not in service (`PLAY002`).
    NotInService,
    /// Another publisher's play (`PLAY003`).
    OtherPublisher,
}

/// Why a simulated user or NUGU action failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmulatorError {
    /// No pending invitation for this email (never invited, cancelled, or already accepted).
    NoPendingInvitation,
    /// The invitation is older than 72 hours; it must be sent again.
    InvitationExpired,
    /// No enrolled Biz user with this email (never accepted, revoked, or deleted).
    NotEnrolled,
    /// The user is enrolled but does not have this play.
    NotEntitled,
    /// The profile did not read as the request model's `PrivatePlay` (an emulator bug).
    ProfileUnreadable,
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPendingInvitation => "no pending invitation for this email",
            Self::InvitationExpired => "the invitation expired (older than 72 hours)",
            Self::NotEnrolled => "no enrolled Biz user with this email",
            Self::NotEntitled => "the user does not have this play",
            Self::ProfileUnreadable => "the emulated profile does not read as a PrivatePlay",
        })
    }
}

impl std::error::Error for EmulatorError {}

/// A misbehaviour to play on the next requests, to test timeouts and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status, without body, without looking at the request.
    Status(StatusCode),
    /// Wait this long before handling the request.
    Delay(Duration),
}

pub(crate) struct Shared {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    token: String,
    requests: AtomicU64,
    faults: Mutex<VecDeque<Fault>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    fn take_fault(&self) -> Option<Fault> {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

/// Configures an [`Emulator`].
#[must_use]
pub struct EmulatorBuilder {
    token: String,
    edition: Edition,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("edition", &self.edition)
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// The publisher token the emulator accepts (default `emulator-publisher-token`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The edition (default [`Edition::Trial`]).
    pub fn edition(mut self, edition: Edition) -> Self {
        self.edition = edition;
        self
    }

    /// The clock (default [`SystemClock`]); pass a [`ManualClock`] to move time in a test.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Binds 127.0.0.1 on a free port and serves until the [`Emulator`] is dropped. Must run
    /// inside a Tokio runtime.
    pub async fn start(self) -> io::Result<Emulator> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(self.edition)),
            clock: self.clock,
            token: self.token,
            requests: AtomicU64::new(0),
            faults: Mutex::new(VecDeque::new()),
        });
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = routes::router(shared.clone());
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(err) = serve.await {
                tracing::warn!(%err, "Biz API emulator stopped");
            }
        });
        Ok(Emulator {
            shared,
            addr,
            _stop: stop,
        })
    }
}

/// A running Biz API emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Configures an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            token: "emulator-publisher-token".to_owned(),
            edition: Edition::Trial,
            clock: Arc::new(SystemClock),
        }
    }

    /// Starts a trial-edition emulator on the system clock.
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, e.g. `http://127.0.0.1:40123`, for [`BizClientBuilder::base_url`].
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The publisher token it accepts.
    pub fn publisher_token(&self) -> PublisherToken {
        PublisherToken::new(self.shared.token.clone())
    }

    /// A client builder aimed at this emulator with its token, a 10 s timeout and no retries.
    pub fn client_builder(&self) -> BizClientBuilder {
        BizClient::builder(self.publisher_token())
            .base_url(self.base_url())
            .timeout(Duration::from_secs(10))
            .retry(RetryPolicy::none())
    }

    /// Registers one of the publisher's plays, in service.
    pub fn add_play(&self, play_service_id: &str) {
        self.set_play(play_service_id, PlayStatus::InService);
    }

    /// Registers a play id with a status (not in service, another publisher's).
    pub fn set_play(&self, play_service_id: &str, status: PlayStatus) {
        self.shared.state().set_play(play_service_id, status);
    }

    /// Switches the edition (existing users keep their type).
    pub fn set_edition(&self, edition: Edition) {
        self.shared.state().edition = edition;
    }

    /// Whether the Biz Kit basic information is filled in (default yes); without it an
    /// invitation is `PUB001` and a user update `USER008`.
    pub fn set_biz_kit_info(&self, complete: bool) {
        self.shared.state().biz_kit_info = complete;
    }

    /// Plays `faults` on the next requests, one per request, before anything else.
    pub fn inject_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(faults);
    }

    /// How many HTTP requests reached the emulator so far.
    pub fn requests_received(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The invitee with `email` accepts their latest invitation (logs in with a NUGU ID) and
    /// becomes a Biz user with the invitation's plays or group; answers their user id.
    pub fn accept_invitation(&self, email: &str) -> Result<UserId, EmulatorError> {
        let now = self.shared.now();
        self.shared.state().accept(email, now)
    }

    /// The user with `email` revokes the Private Play permission in the NUGU app; only a new
    /// invitation restores it.
    pub fn revoke(&self, email: &str) -> Result<(), EmulatorError> {
        self.shared.state().revoke(email)
    }

    /// The `profile.privatePlay` object NUGU sends with requests of the user `email` from the
    /// speaker `device_unique_id` to `play_service_id`: `deviceUniqueId`, `userKey`,
    /// `deviceKey` and `enrolledUser{name, phoneNo, email, tag?, userToken?, serviceType?}`
    /// (`tag` is the user's alias; `userToken` and `serviceType` only in the full edition).
    pub fn private_play_profile(
        &self,
        email: &str,
        play_service_id: &str,
        device_unique_id: &str,
    ) -> Result<Value, EmulatorError> {
        self.shared
            .state()
            .profile(email, play_service_id, device_unique_id)
    }

    /// [`private_play_profile`](Self::private_play_profile) read as the crate's request model
    /// reads it: what a handler behind [`PrivatePlayLayer`](crate::PrivatePlayLayer) gets.
    pub fn private_play(
        &self,
        email: &str,
        play_service_id: &str,
        device_unique_id: &str,
    ) -> Result<crate::PrivatePlay, EmulatorError> {
        let profile = self.private_play_profile(email, play_service_id, device_unique_id)?;
        serde_json::from_value(profile).map_err(|_| EmulatorError::ProfileUnreadable)
    }
}
