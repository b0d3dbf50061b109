//! A local emulator of the Biz API (feature `biz-emulator`): a real HTTP server on 127.0.0.1
//! that behaves as the documented API, with in-memory state and an injectable clock.
//!
//! The Biz API is a full-edition feature ("Biz API는 제휴를 통한 정식판 권한 사용자에게
//! 제공"), so the emulator is a full-edition publisher unless told otherwise
//! ([`EmulatorBuilder::edition`]); [`Edition::Trial`] keeps what the trial page (seed 000)
//! describes, the 10-user limit counting pending invitations and enrolled users (`USER007`,
//! per publisher or per play: [`TrialLimit`]), for tests of that.
//!
//! It checks the publisher token (403), enforces unique group names (401), answers every
//! documented `400` code, re-invites an email with its name and alias updated, lets an
//! invitation expire after 72 hours, cancels only pending invitees (406 after acceptance), and
//! gives users invited into a group that group's plays. Beyond the API it plays the user
//! ([`Emulator::accept_invitation`], [`Emulator::revoke`]) and NUGU
//! ([`Emulator::private_play_profile`]: the `profile.privatePlay` of the user's requests;
//! [`Emulator::dedicated_device_profile`]: that of a Biz-dedicated device, without user).
//!
//! For the full edition it plays NUGU's side of account linking: it sends the user to the
//! publisher's authentication URL ([`Emulator::link_url`] for a test playing the browser,
//! [`Emulator::accept_and_link`] for a page that completes it server to server), receives the
//! token at its `callBack`, answers `CONFLICT` for a token another email has and posts the
//! confirmation ([`Emulator::finish_link`]); and of announcements: it checks them as the API
//! does (`V1ANN...`), plays them on the users' devices ([`Emulator::add_device`],
//! [`DeviceState`]) or a shared-device group's ([`Emulator::add_shared_device_group`]), records
//! what each device heard ([`Emulator::heard`]), and posts the result to `callBack`
//! (`NOT_AGREE` for a user who refused Biz API messages, [`Emulator::set_api_agreement`]).
//!
//! It is no kinder than NUGU: where the pages are terse or leave something open, it takes the
//! reading under which a test that passes here also passes against NUGU.
//! - Updates: a field an update does not send stays as it is. The user update page says so of
//!   `targetGroupId` only; the emulator reads every omission so (a user's alias, which NUGU
//!   sends to plays as `enrolledUser.tag`; a group's alias and `playServiceIds`), and a blank
//!   alias or an empty `playServiceIds` removes it. An omitted alias in a re-invitation keeps
//!   the earlier one, and an enrolled user re-invited keeps name and alias until they accept.
//! - Invitation: the `reason` is required and not blank (`USER006`, "reason insufficient"; the
//!   page marks it optional).
//! - "get user": "사용자 초대 유형이 X일 경우 Y" ("when the invitation type is X: Y") gives the
//!   value for that type. A `SERVICE` user's `token` and `plays[].token` are the token the
//!   publisher linked (NUGU makes none of its own), each play repeats the user's consent,
//!   device count and acceptance date; a `PLAY` user's tokens are `null`, consents `N`, counts
//!   0. The device count is the number of the user's devices while they agree to Biz API
//!   messages.
//! - The invitation type (`serviceType`) follows how the invitation was accepted, not the
//!   edition: accepted through account linking ([`Emulator::accept_and_link`]) a user is
//!   `SERVICE` with the publisher's token; accepted without linking
//!   ([`Emulator::accept_invitation`]) they agreed to the plays only, and are `PLAY` without a
//!   token. A linked user invited again keeps their link.
//! - The user list's `apiAgreeType` is `ALL` exactly when the detail's `serviceApiAgreeYn` is
//!   `Y`, else `NONE`; `authType` is `ALL` for a linked user, else `NONE`.
//! - The 72-hour validity is written on the trial page; it applies in both editions, since the
//!   invitation list of the (full-edition) API reports each invitee's `ENABLE`/`DISABLE`.
//! - `createdDate` of the invitation list is UTC with `Z` (`2021-08-04T07:34:30.000Z`), as that
//!   page writes it; the other dates are local (Seoul) time without zone, as theirs do.
//! - Announcements are checked in the order of the pages' code table, then the play, then the
//!   target (404). A play the API does not allow is `V1ANN301` to a user or shared-device
//!   group, and `V1ANN204` to a user group, whose page lists it so. `display.type` compares
//!   without case (the pages' example writes `imageText2`).
//! - `callBack`: NUGU calls ports 80 and 443 only ("80/443포트만 허용"). An announcement whose
//!   `callBack` names another port (or is no URL) is refused before anything is played, with
//!   `400 INVALID_REQUEST`; [`EmulatorBuilder::dangerous_allow_any_callback_port`] lifts this
//!   for a test that listens on a free port.
//!
//! Answers the pages do not list for an endpoint are the emulator's own choices:
//! - Every 400 carries `{"errorCode": ...}`. For an unreadable body or query, which the pages
//!   give no code for (but announcements: `V1ANN001`), and for a refused `callBack`, the code is
//!   `INVALID_REQUEST`, a code NUGU does not send ([`ErrorCode::Unknown`](crate::biz::ErrorCode::Unknown)
//!   to the client).
//! - Invitation: the same email twice in one request is `USER004` (the code table's "duplicate
//!   email", which the invitation page does not list); neither `targetPlayServiceIds` nor
//!   `targetGroupId` (or an empty `targetPlayServiceIds`) is `PLAY001`.
//! - Cancel: its page lists 200, 403, 404 and 406 only. The emulator answers `400 USER001` for
//!   an email that is blank or longer than 350 (the page may read a blank email as "cancel
//!   everyone", which the emulator refuses to guess), `400 INVALID_REQUEST` for an unreadable
//!   body and 415 for one that is not JSON.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nugu_proxy::biz::emulator::Emulator;
//! use nugu_proxy::biz::{InvitationReason, InvitationRequest, InvitationTarget, Invitee};
//!
//! let emulator = Emulator::start().await?;
//! emulator.add_play("com.example.orders");
//! let client = emulator.client_builder().build()?;
//! client
//!     .invite(&InvitationRequest::new(
//!         InvitationTarget::Plays(vec!["com.example.orders".into()]),
//!         vec![Invitee::new("kim@example.com", "김철수", "01012345678").alias("E-1024")],
//!         InvitationReason::new("Store ordering play")?,
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
use super::model::{Announcement, DeviceResultCode, Sensitive, UserId};
use state::State;

/// How long an invitation email stays valid: 72 hours.
pub const INVITATION_VALIDITY: Duration = state::INVITATION_VALIDITY;

/// How many users a trial publisher may hold, pending invitations and enrolled users together
/// (per publisher or per play: [`TrialLimit`]).
pub const TRIAL_USER_LIMIT: usize = state::TRIAL_USER_LIMIT;

/// The publisher's Biz Kit edition.
///
/// The Biz API is given to full-edition publishers ("Biz API는 제휴를 통한 정식판 권한
/// 사용자에게 제공"), so [`Full`](Self::Full) is the default. [`Trial`](Self::Trial) plays
/// what the trial page (seed 000) describes of the console, for tests of that limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Edition {
    /// 체험판: at most 10 users, pending invitations included (`USER007`), counted as
    /// [`TrialLimit`] says.
    Trial,
    /// 정식판: no user limit, account linking, and NUGU sends `userToken` (linked users only)
    /// and `serviceType` in `enrolledUser`.
    #[default]
    Full,
}

/// What the trial's 10 users are counted over.
///
/// The trial page says both "Private Play 단위로 사용자를 초대" (users are invited per Private
/// Play) and "등록 가능한 사용자는 최대 10명" (at most 10 users can be registered), leaving open
/// whether the 10 are per play or per publisher. The emulator counts per publisher by default,
/// the stricter reading: a test that passes under it passes under the other, not the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TrialLimit {
    /// 10 emails per publisher, whatever their plays.
    #[default]
    PerPublisher,
    /// 10 emails per Private Play: an invitation is refused when one of its plays would hold
    /// more.
    PerPlay,
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
#[derive(Clone, Copy, PartialEq, Eq)]
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
    /// Account linking needs the full edition and an authentication URL
    /// ([`EmulatorBuilder::auth_url`]).
    LinkUnavailable,
    /// The publisher's authentication URL could not be reached (or did not answer).
    PublisherUnreachable,
    /// The publisher's page answered without posting a token to `callBack`: the user left the
    /// invitation unfinished, and stays invited, not enrolled.
    LinkAbandoned,
    /// The token the publisher posted belongs to another Biz user (`CONFLICT`).
    TokenConflict,
    /// No Biz-dedicated device of this unique name
    /// ([`Emulator::add_shared_device_group`]).
    UnknownDevice,
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPendingInvitation => "no pending invitation for this email",
            Self::InvitationExpired => "the invitation expired (older than 72 hours)",
            Self::NotEnrolled => "no enrolled Biz user with this email",
            Self::NotEntitled => "the user does not have this play",
            Self::ProfileUnreadable => "the emulated profile does not read as a PrivatePlay",
            Self::LinkUnavailable => "account linking needs the full edition and an auth URL",
            Self::PublisherUnreachable => "the publisher's authentication URL did not answer",
            Self::LinkAbandoned => "the publisher posted no token: the link was abandoned",
            Self::TokenConflict => "the token belongs to another Biz user (CONFLICT)",
            Self::UnknownDevice => "no Biz-dedicated device of this unique name",
        })
    }
}

impl std::error::Error for EmulatorError {}

crate::report::debug_as_report!(EmulatorError);

/// How a device answers an announcement (its `deviceResults[].code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeviceState {
    /// On and connected: it plays the announcement (`OK`).
    #[default]
    Connected,
    /// Not connected to the user (`NOT_CONNECTED`).
    NotConnected,
    /// Connecting to it times out (`TIMEOUT`).
    Timeout,
    /// Off, or its network fails (`CONNECT_ERROR`).
    ConnectError,
    /// Cannot play announcements (`NOT_SUPPORTED`).
    NotSupported,
    /// Fails for an unknown reason (`ERROR`).
    Error,
}

impl DeviceState {
    pub(crate) fn code(self) -> DeviceResultCode {
        match self {
            Self::Connected => DeviceResultCode::Ok,
            Self::NotConnected => DeviceResultCode::NotConnected,
            Self::Timeout => DeviceResultCode::Timeout,
            Self::ConnectError => DeviceResultCode::ConnectError,
            Self::NotSupported => DeviceResultCode::NotSupported,
            Self::Error => DeviceResultCode::Error,
        }
    }
}

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
    /// NUGU's own requests: to the publisher's authentication URL, `confirmUrl` and `callBack`.
    outbound: reqwest::Client,
    auth_url: Mutex<Option<String>>,
    /// [`EmulatorBuilder::dangerous_allow_any_callback_port`].
    any_callback_port: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Posts a result or a confirmation as NUGU does, after the answer; failures are logged.
    pub(crate) fn post_later<T: serde::Serialize + Send + 'static>(&self, url: String, body: T) {
        let client = self.outbound.clone();
        tokio::spawn(async move {
            if let Err(err) = client.post(&url).json(&body).send().await {
                tracing::warn!(err = %err.without_url(), "emulator: a callback could not be delivered");
            }
        });
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
    trial_limit: TrialLimit,
    clock: Arc<dyn Clock>,
    any_callback_port: bool,
    auth_url: Option<String>,
    roots: Vec<reqwest::Certificate>,
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

    /// The edition (default [`Edition::Full`]: the Biz API is a full-edition feature).
    pub fn edition(mut self, edition: Edition) -> Self {
        self.edition = edition;
        self
    }

    /// How the trial edition counts its 10 users (default [`TrialLimit::PerPublisher`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use nugu_proxy::biz::emulator::{Edition, Emulator, TrialLimit};
    /// let emulator = Emulator::builder()
    ///     .edition(Edition::Trial)
    ///     .trial_limit(TrialLimit::PerPlay)
    ///     .start()
    ///     .await?;
    /// # drop(emulator);
    /// # Ok(()) }
    /// ```
    pub fn trial_limit(mut self, limit: TrialLimit) -> Self {
        self.trial_limit = limit;
        self
    }

    /// The clock (default [`SystemClock`]); pass a [`ManualClock`] to move time in a test.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// **Dangerous**: posts announcement results to a `callBack` on any port. NUGU calls ports
    /// 80 and 443 only ("80/443포트만 허용") and the emulator, like it, refuses an announcement
    /// whose `callBack` names another port (`400`, see the module docs); this lifts the rule
    /// for a test whose receiver listens on a free port of 127.0.0.1.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use nugu_proxy::biz::emulator::Emulator;
    /// // The test's CallbackService listens on 127.0.0.1:0, not on 80 or 443.
    /// let emulator = Emulator::builder().dangerous_allow_any_callback_port().start().await?;
    /// # drop(emulator);
    /// # Ok(()) }
    /// ```
    pub fn dangerous_allow_any_callback_port(mut self) -> Self {
        self.any_callback_port = true;
        self
    }

    /// The publisher's registered authentication URL, where account linking sends the user
    /// ([`Emulator::accept_and_link`]); full edition only.
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = Some(url.into());
        self
    }

    /// Trusts this certificate (PEM) when the emulator, as NUGU, calls the publisher over
    /// `https` (a test's self-signed `localhost` certificate).
    pub fn trust_certificate_pem(mut self, pem: &[u8]) -> io::Result<Self> {
        let cert = reqwest::Certificate::from_pem(pem).map_err(io::Error::other)?;
        self.roots.push(cert);
        Ok(self)
    }

    /// Binds 127.0.0.1 on a free port and serves until the [`Emulator`] is dropped. Must run
    /// inside a Tokio runtime.
    pub async fn start(self) -> io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let mut outbound = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        for root in self.roots {
            outbound = outbound.add_root_certificate(root);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(self.edition, self.trial_limit)),
            clock: self.clock,
            token: self.token,
            requests: AtomicU64::new(0),
            faults: Mutex::new(VecDeque::new()),
            outbound: outbound.build().map_err(io::Error::other)?,
            auth_url: Mutex::new(self.auth_url),
            any_callback_port: self.any_callback_port,
        });
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
            edition: Edition::Full,
            trial_limit: TrialLimit::PerPublisher,
            clock: Arc::new(SystemClock),
            any_callback_port: false,
            auth_url: None,
            roots: Vec::new(),
        }
    }

    /// Starts a full-edition emulator on the system clock.
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
    /// becomes a Biz user with the invitation's plays or group; answers their user id. Without
    /// account linking NUGU makes no token: the user is a `PLAY` user whose `token` is `null`
    /// (see [`accept_and_link`](Self::accept_and_link) for a `SERVICE` user).
    pub fn accept_invitation(&self, email: &str) -> Result<UserId, EmulatorError> {
        let now = self.shared.now();
        self.shared.state().accept(email, now)
    }

    /// The user with `email` revokes the Private Play permission in the NUGU app; only a new
    /// invitation restores it.
    pub fn revoke(&self, email: &str) -> Result<(), EmulatorError> {
        self.shared.state().revoke(email)
    }

    /// Sets the publisher's authentication URL (see [`EmulatorBuilder::auth_url`]).
    pub fn set_auth_url(&self, url: impl Into<String>) {
        *self
            .shared
            .auth_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(url.into());
    }

    /// The invitee with `email` accepts their invitation through **account linking** (full
    /// edition), with the publisher's page completing it **server to server**:
    /// 1. calls the publisher's authentication URL ([`link_url`](Self::link_url)) and waits
    ///    for its answer;
    /// 2. meanwhile receives at `callBack` the token the publisher posted;
    /// 3. the user finishes the invitation ([`finish_link`](Self::finish_link)).
    ///
    /// A page that answers without posting a token is an abandoned link
    /// ([`EmulatorError::LinkAbandoned`]): the user stays invited, and no token is kept. For a
    /// page that answers the user's browser with a form to `callBack` (the browser shape), a
    /// test plays the browser: [`link_url`](Self::link_url), submit the page's form, then
    /// [`finish_link`](Self::finish_link).
    pub async fn accept_and_link(&self, email: &str) -> Result<UserId, EmulatorError> {
        let url = self.link_url(email)?;
        let reached = self.shared.outbound.get(url).send().await.is_ok();
        let result = self.finish_link(email).await;
        if !reached && result == Err(EmulatorError::LinkAbandoned) {
            return Err(EmulatorError::PublisherUnreachable);
        }
        result
    }

    /// NUGU starts an account link for the invitee `email` (full edition, after their NUGU
    /// login): answers the URL it sends the user's browser to, the publisher's authentication
    /// URL with `status`, `callBack` and `email` in the query. `callBack` is
    /// `{emulator}/emulator/link/callback`, which takes the publisher's `POST` of `status`,
    /// `userApiToken` and `confirmUrl?` (query, or a form body) and answers `404` to an
    /// unknown `status`, `400` to a parameter given twice with different values. A new call
    /// restarts the user's link.
    pub fn link_url(&self, email: &str) -> Result<String, EmulatorError> {
        let auth_url = self
            .shared
            .auth_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(EmulatorError::LinkUnavailable)?;
        let mut url = reqwest::Url::parse(&auth_url).map_err(|_| EmulatorError::LinkUnavailable)?;
        let status = self.shared.state().start_link(email, self.shared.now())?;
        url.query_pairs_mut()
            .append_pair("status", &status)
            .append_pair(
                "callBack",
                &format!("{}{}", self.base_url(), routes::LINK_CALLBACK),
            )
            .append_pair("email", email);
        Ok(url.into())
    }

    /// The user `email` finishes the invitation on NUGU's pages after the publisher handed
    /// the token to `callBack`: NUGU enrols them as a `SERVICE` user with that token (their
    /// requests then carry `userToken` and `serviceType: SERVICE`), or refuses a token another
    /// email already has ([`EmulatorError::TokenConflict`]), and posts
    /// `{userApiToken, resultCode: OK | CONFLICT}` to the `confirmUrl`, if one was given,
    /// before returning. Without a token posted, the link is abandoned
    /// ([`EmulatorError::LinkAbandoned`]) and forgotten.
    pub async fn finish_link(&self, email: &str) -> Result<UserId, EmulatorError> {
        let decision = {
            let mut state = self.shared.state();
            let Some(status) = state.link_of(email) else {
                return Err(EmulatorError::LinkAbandoned);
            };
            state.finish_link(&status, self.shared.now())
        };
        if let Some((confirm_url, token, code)) = decision.confirmation {
            let body = crate::biz::LinkConfirmation {
                user_api_token: crate::biz::UserApiToken::new(token),
                result_code: code,
            };
            if let Err(err) = self
                .shared
                .outbound
                .post(&confirm_url)
                .json(&body)
                .send()
                .await
            {
                tracing::warn!(err = %err.without_url(), "emulator: the link confirmation could not be delivered");
            }
        }
        decision.result
    }

    /// Gives the Biz user `email` a speaker, `unique_name`, that answers announcements as
    /// `state` says (replacing a device of the same name).
    pub fn add_device(
        &self,
        email: &str,
        unique_name: &str,
        state: DeviceState,
    ) -> Result<(), EmulatorError> {
        self.shared
            .state()
            .add_device(email, state::DeviceRec::new(unique_name, state))
    }

    /// The Biz user `email` agrees (`true`, the default) or refuses (`false`) to receive Biz
    /// API messages; refused, their announcements answer `NOT_AGREE`.
    pub fn set_api_agreement(&self, email: &str, agreed: bool) -> Result<(), EmulatorError> {
        self.shared.state().set_api_agreement(email, agreed)
    }

    /// Registers a shared-device group with its devices; answers the group's API token.
    pub fn add_shared_device_group(
        &self,
        name: &str,
        devices: &[(&str, DeviceState)],
    ) -> Sensitive {
        let devices = devices
            .iter()
            .map(|(unique_name, state)| state::DeviceRec::new(unique_name, *state))
            .collect();
        Sensitive::new(self.shared.state().add_shared_group(name, devices))
    }

    /// What the device `unique_name` (a user's or a shared one) has played so far, oldest
    /// first.
    pub fn heard(&self, unique_name: &str) -> Vec<Announcement> {
        self.shared.state().heard(unique_name)
    }

    /// The `profile.privatePlay` object NUGU sends with requests of the user `email` from the
    /// speaker `device_unique_id` to `play_service_id`: `deviceUniqueId`, `userKey`,
    /// `deviceKey` and `enrolledUser{name, phoneNo, email, tag?, userToken?, serviceType?}`
    /// (`tag` is the user's alias; `serviceType` only in the full edition, `userToken` only
    /// there and for a linked user).
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

    /// The `profile.privatePlay` object NUGU sends with requests to `play_service_id` (one of
    /// the publisher's plays in service) from `device_unique_id`, a speaker of a Biz-dedicated
    /// device group ([`add_shared_device_group`](Self::add_shared_device_group)):
    /// `deviceUniqueId`, `userKey` and `deviceKey` only, no `enrolledUser`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use nugu_proxy::biz::emulator::{DeviceState, Emulator};
    ///
    /// let emulator = Emulator::start().await?;
    /// emulator.add_play("com.example.lobby");
    /// emulator.add_shared_device_group("Lobby", &[("NU200_LOBBY1", DeviceState::Connected)]);
    /// let profile = emulator.dedicated_device_profile("com.example.lobby", "NU200_LOBBY1")?;
    /// assert_eq!(profile["deviceUniqueId"], "NU200_LOBBY1");
    /// assert!(profile.get("enrolledUser").is_none());
    /// # Ok(()) }
    /// ```
    pub fn dedicated_device_profile(
        &self,
        play_service_id: &str,
        device_unique_id: &str,
    ) -> Result<Value, EmulatorError> {
        self.shared
            .state()
            .dedicated_profile(play_service_id, device_unique_id)
    }

    /// [`dedicated_device_profile`](Self::dedicated_device_profile) read as the crate's request
    /// model reads it.
    pub fn dedicated_private_play(
        &self,
        play_service_id: &str,
        device_unique_id: &str,
    ) -> Result<crate::PrivatePlay, EmulatorError> {
        let profile = self.dedicated_device_profile(play_service_id, device_unique_id)?;
        serde_json::from_value(profile).map_err(|_| EmulatorError::ProfileUnreadable)
    }
}
