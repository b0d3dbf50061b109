//! [`BizClient`]: one method per Biz API call, with validation, timeouts and retries.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::confirm::ConfirmUrl;
use super::error::{BizError, ErrorCode};
use super::link::{LinkError, SignedInLink};
use super::model::{
    Announcement, CancelScope, Created, EmailEntry, EmailList, Group, GroupDetail, GroupId,
    GroupPage, GroupRequest, GroupSummary, Invitation, InvitationId, InvitationList,
    InvitationRequest, Sensitive, SharedDeviceGroup, SharedDeviceGroupList, UpdatedUser,
    UserApiToken, UserDetail, UserId, UserPage, UserSummary, UserUpdate,
};
use super::paginate::{pages, Page};
use super::validate;

/// The real Biz API.
pub const DEFAULT_BASE_URL: &str = "https://biz-api.sktnugu.com";

/// The header that carries the publisher token.
pub const PUBLISHER_TOKEN_HEADER: &str = "Publisher-Token";

/// The path segment that names the unassigned users in "get group".
const UNMAPPED_USER: &str = "unmappedUser";

/// Largest answer body the client reads.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The publisher token of "Biz Kit 기본 정보". `Debug` shows nothing of it; it is sent only as the
/// `Publisher-Token` header, marked sensitive.
///
/// ```
/// use nugu_proxy::biz::PublisherToken;
/// let token = PublisherToken::new("s3cr3t-publisher-token");
/// assert_eq!(format!("{token:?}"), "PublisherToken(<redacted>)");
/// ```
#[derive(Clone)]
pub struct PublisherToken(String);

impl PublisherToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    fn header_value(&self) -> Result<HeaderValue, BizError> {
        let mut value = HeaderValue::from_str(self.0.trim()).map_err(|_| {
            BizError::Config("the publisher token is not a valid header value".into())
        })?;
        if value.is_empty() {
            return Err(BizError::Config("the publisher token is empty".into()));
        }
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for PublisherToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublisherToken(<redacted>)")
    }
}

/// When to try a call again. Only idempotent calls (`GET`, `PUT`, `DELETE`) are retried, and only
/// after a `5xx` answer, a timeout or a connection error; the wait doubles from
/// `initial_backoff` up to `max_backoff`.
///
/// A retried `DELETE` whose first attempt reached the API but lost its answer reports
/// [`BizError::NotFound`] (or, for a cancellation, [`BizError::NotAcceptable`]).
///
/// ```
/// use std::time::Duration;
/// use nugu_proxy::biz::RetryPolicy;
/// let policy = RetryPolicy::new(3).backoff(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(policy.delay(0), Duration::from_millis(100));
/// assert_eq!(policy.delay(5), Duration::from_secs(1));
/// assert_eq!(RetryPolicy::none().max_retries(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    /// Up to `max_retries` retries, waiting 200 ms, 400 ms, ... at most 5 s.
    pub fn new(max_retries: u32) -> Self {
        Self {
            max_retries,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// Never retry.
    pub fn none() -> Self {
        Self::new(0)
    }

    /// Sets the first wait and the longest wait.
    pub fn backoff(self, initial: Duration, max: Duration) -> Self {
        Self {
            initial_backoff: initial,
            max_backoff: max.max(initial),
            ..self
        }
    }

    /// How many retries at most.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The wait before retry number `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    /// Two retries.
    fn default() -> Self {
        Self::new(2)
    }
}

/// Configures a [`BizClient`].
///
/// ```
/// use std::time::Duration;
/// use nugu_proxy::biz::{BizClient, PublisherToken, RetryPolicy};
/// let client = BizClient::builder(PublisherToken::new("token"))
///     .base_url("http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(5))
///     .retry(RetryPolicy::none())
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/");
/// ```
#[derive(Debug)]
#[must_use]
pub struct BizClientBuilder {
    token: PublisherToken,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    validate: bool,
    http_callback_hosts: Vec<String>,
}

impl BizClientBuilder {
    /// The API's address; default [`DEFAULT_BASE_URL`]. `http` and `https` are accepted (plain
    /// `http` only makes sense for a local emulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The longest a whole call (connect, send, read the answer) may take; default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest connecting may take; default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy; default [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Whether to check requests before sending them (default `true`). Turn it off only to test
    /// how a server answers invalid requests.
    pub fn validate_before_sending(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    /// **Dangerous**: lets an announcement's `callBack` use plain `http` and any port on these
    /// hosts. Results carry users' names and emails, so by default a `callBack` must be `https`
    /// on port 443 (or 80, the other port the API calls). Only for a local emulator on
    /// 127.0.0.1 in tests.
    pub fn dangerous_allow_http_callback_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.http_callback_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<BizClient, BizError> {
        let base = Url::parse(&self.base_url)
            .map_err(|_| BizError::Config("the base URL does not parse".into()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(BizError::Config("the base URL must be http(s)".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            // No `https_only`: every URL requested is one the crate checked (the base URL
            // above; a link's `callBack`, which the page allows as http on port 80), and no
            // redirect is followed.
            // reqwest strips only the standard credential headers on a cross-host redirect:
            // `Publisher-Token` (and, on 307/308, the body's personal data) would follow.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(BizError::Transport)?;
        Ok(BizClient {
            http,
            base,
            token: self.token.header_value()?,
            timeout: self.timeout,
            retry: self.retry,
            validate: self.validate,
            http_callback_hosts: self.http_callback_hosts.into(),
        })
    }
}

/// A client of the NUGU Biz API (Biz users, groups and invitations).
///
/// Cheap to clone (the connection pool is shared). Every call sends the `Publisher-Token` header,
/// checks its input first (see [`validate`](super::validate)), and maps the answer to a typed
/// value or a [`BizError`]. An id that cannot name anything (empty, blank, `.` or `..`) is
/// [`BizError::NotFound`] without a request.
///
/// ```
/// use nugu_proxy::biz::{
///     BizClient, InvitationReason, InvitationRequest, InvitationTarget, Invitee, PublisherToken,
/// };
/// # #[cfg(feature = "biz-emulator")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emulator = nugu_proxy::biz::emulator::Emulator::start().await?;
/// # emulator.add_play("com.example.orders");
/// # let client = emulator.client_builder().build()?;
/// # /*
/// let client = BizClient::new(PublisherToken::new(std::env::var("NUGU_PUBLISHER_TOKEN")?))?;
/// # */
/// let id = client
///     .invite(&InvitationRequest::new(
///         InvitationTarget::Plays(vec!["com.example.orders".into()]),
///         vec![Invitee::new("kim@example.com", "김철수", "01012345678")],
///         InvitationReason::new("Store ordering play")?,
///     ))
///     .await?;
/// println!("invitation {id} sent");
/// # assert_eq!(client.invitations().await?.len(), 1);
/// # Ok(()) }
/// # #[cfg(not(feature = "biz-emulator"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct BizClient {
    http: reqwest::Client,
    base: Url,
    token: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    validate: bool,
    http_callback_hosts: std::sync::Arc<[String]>,
}

impl fmt::Debug for BizClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BizClient")
            .field("base_url", &self.base.as_str())
            .field("token", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// What a call sends: method, path below the base URL, query, body.
struct Call<'a> {
    method: Method,
    path: &'a [&'a str],
    query: Vec<(&'static str, String)>,
    body: Option<Bytes>,
    /// The index of a path segment that is a credential (a user or group token): logged as
    /// `<redacted>`.
    secret_segment: Option<usize>,
    /// A URL outside the API (a link's `callBack`): no `Publisher-Token` is sent there, and
    /// only its host is logged.
    external: Option<Url>,
}

impl<'a> Call<'a> {
    fn new(method: Method, path: &'a [&'a str]) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            secret_segment: None,
            external: None,
        }
    }

    fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, BizError> {
        let body = serde_json::to_vec(body)
            .map_err(|_| BizError::Config("the request body does not serialize".into()))?;
        self.body = Some(Bytes::from(body));
        Ok(self)
    }

    /// What a log line may show of the target.
    fn log_target(&self) -> String {
        if let Some(url) = &self.external {
            return format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        }
        let segments: Vec<&str> = self
            .path
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if Some(i) == self.secret_segment {
                    "<redacted>"
                } else {
                    s
                }
            })
            .collect();
        format!("/{}", segments.join("/"))
    }
}

impl BizClient {
    /// A client of the real API with default settings.
    pub fn new(token: PublisherToken) -> Result<Self, BizError> {
        Self::builder(token).build()
    }

    /// Starts configuring a client.
    pub fn builder(token: PublisherToken) -> BizClientBuilder {
        BizClientBuilder {
            token,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            validate: true,
            http_callback_hosts: Vec::new(),
        }
    }

    /// The API's address.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    // -- groups ---------------------------------------------------------------------------------

    /// `POST /api/v1/enrolledUser/group`: creates a group. A taken name is
    /// [`BizError::NameTaken`].
    pub async fn create_group(&self, group: &GroupRequest) -> Result<Group, BizError> {
        self.check(|| validate::group(group))?;
        self.json(Method::POST, &["api", "v1", "enrolledUser", "group"], group)
            .await
    }

    /// `PUT /api/v1/enrolledUser/group/{groupId}`: renames a group and changes what the
    /// [`GroupRequest`] sets; an alias or plays it does not set are not sent and stay as they
    /// are ([`Change`](super::Change)).
    pub async fn update_group(
        &self,
        id: &GroupId,
        group: &GroupRequest,
    ) -> Result<Group, BizError> {
        self.check(|| validate::group(group))?;
        let path = ["api", "v1", "enrolledUser", "group", id.as_str()];
        self.json(Method::PUT, &path, group).await
    }

    /// `DELETE /api/v1/enrolledUser/group/{groupId}`: deletes a group; its users become
    /// unassigned.
    pub async fn delete_group(&self, id: &GroupId) -> Result<(), BizError> {
        let path = ["api", "v1", "enrolledUser", "group", id.as_str()];
        self.no_content(Method::DELETE, &path).await
    }

    /// `GET /api/v1/enrolledUser/group?page&pageSize`: one page of groups.
    pub async fn list_groups(&self, page: Page) -> Result<GroupPage, BizError> {
        self.page(&["api", "v1", "enrolledUser", "group"], page)
            .await
    }

    /// Every group, page after page (`page_size` per request).
    ///
    /// ```
    /// use futures_util::TryStreamExt;
    /// # use nugu_proxy::biz::GroupRequest;
    /// # #[cfg(feature = "biz-emulator")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = nugu_proxy::biz::emulator::Emulator::start().await?;
    /// # emulator.add_play("com.example.orders");
    /// # let client = emulator.client_builder().build()?;
    /// # for name in ["a", "b", "c"] { client.create_group(&GroupRequest::new(name)).await?; }
    /// let groups: Vec<_> = client.groups(2).try_collect().await?; // two requests
    /// # assert_eq!(groups.len(), 3);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "biz-emulator"))]
    /// # fn main() {}
    /// ```
    pub fn groups(&self, page_size: u32) -> impl Stream<Item = Result<GroupSummary, BizError>> {
        let client = self.clone();
        pages(Page::first().size(page_size), move |page| {
            let client = client.clone();
            async move { client.list_groups(page).await }
        })
    }

    /// `GET /api/v1/enrolledUser/group/{groupId}`: a group with its users.
    pub async fn group(&self, id: &GroupId) -> Result<GroupDetail, BizError> {
        let path = ["api", "v1", "enrolledUser", "group", id.as_str()];
        self.get(&path).await
    }

    /// `GET /api/v1/enrolledUser/group/unmappedUser`: the users in no group.
    pub async fn unassigned_users(&self) -> Result<GroupDetail, BizError> {
        self.get(&["api", "v1", "enrolledUser", "group", UNMAPPED_USER])
            .await
    }

    // -- invitations ----------------------------------------------------------------------------

    /// `POST /api/v1/enrolledUser/invitation`: emails an invitation to each user. An email
    /// already invited is invited again, with its name and alias updated. Never retried.
    pub async fn invite(&self, invitation: &InvitationRequest) -> Result<InvitationId, BizError> {
        self.check(|| validate::invitation(invitation))?;
        let path = ["api", "v1", "enrolledUser", "invitation"];
        let created: Created = self.json(Method::POST, &path, invitation).await?;
        Ok(created.id)
    }

    /// `GET /api/v1/invitation`: the invitations in progress.
    pub async fn invitations(&self) -> Result<Vec<Invitation>, BizError> {
        let list: InvitationList = self.get(&["api", "v1", "invitation"]).await?;
        Ok(list.invitations)
    }

    /// `DELETE /api/v1/invitation/{invitationId}`: cancels pending invitees; answers the emails
    /// cancelled. [`BizError::NotAcceptable`] when they had already accepted,
    /// [`BizError::NotFound`] when there was no one to cancel.
    ///
    /// ```
    /// use nugu_proxy::biz::{
    ///     CancelScope, InvitationReason, InvitationRequest, InvitationTarget, Invitee,
    /// };
    /// # #[cfg(feature = "biz-emulator")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = nugu_proxy::biz::emulator::Emulator::start().await?;
    /// # emulator.add_play("com.example.orders");
    /// # let client = emulator.client_builder().build()?;
    /// let people = vec![
    ///     Invitee::new("kim@example.com", "김철수", "01012345678"),
    ///     Invitee::new("lee@example.com", "이영희", "01087654321"),
    /// ];
    /// let target = InvitationTarget::Plays(vec!["com.example.orders".into()]);
    /// let reason = InvitationReason::new("Store ordering play")?;
    /// let id = client.invite(&InvitationRequest::new(target, people, reason)).await?;
    /// let scope = CancelScope::Emails(vec!["lee@example.com".into()]);
    /// let cancelled = client.cancel_invitation(id, &scope).await?;
    /// assert_eq!(cancelled[0].expose(), "lee@example.com");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "biz-emulator"))]
    /// # fn main() {}
    /// ```
    pub async fn cancel_invitation(
        &self,
        id: InvitationId,
        scope: &CancelScope,
    ) -> Result<Vec<Sensitive>, BizError> {
        self.check(|| validate::cancel(scope))?;
        let users = match scope {
            CancelScope::AllPending => Vec::new(),
            CancelScope::Emails(emails) => emails
                .iter()
                .map(|email| EmailEntry {
                    email: email.clone(),
                })
                .collect(),
        };
        let id = id.to_string();
        let path = ["api", "v1", "invitation", id.as_str()];
        let list: EmailList = self
            .json(Method::DELETE, &path, &EmailList { users })
            .await?;
        Ok(list.users.into_iter().map(|u| u.email).collect())
    }

    // -- users ----------------------------------------------------------------------------------

    /// `GET /api/v1/enrolledUser/user?page&pageSize`: one page of Biz users.
    pub async fn list_users(&self, page: Page) -> Result<UserPage, BizError> {
        self.page(&["api", "v1", "enrolledUser", "user"], page)
            .await
    }

    /// Every Biz user, page after page (`page_size` per request).
    pub fn users(&self, page_size: u32) -> impl Stream<Item = Result<UserSummary, BizError>> {
        let client = self.clone();
        pages(Page::first().size(page_size), move |page| {
            let client = client.clone();
            async move { client.list_users(page).await }
        })
    }

    /// `GET /api/v1/enrolledUser/user/{userId}`: one user with plays and consent flags.
    pub async fn user(&self, id: &UserId) -> Result<UserDetail, BizError> {
        self.get(&["api", "v1", "enrolledUser", "user", id.as_str()])
            .await
    }

    /// `PUT /api/v1/enrolledUser/user/{userId}`: renames a user, and sets or clears the alias
    /// and moves groups if the [`UserUpdate`] says so; an alias it does not set is not sent and
    /// stays as it is.
    pub async fn update_user(
        &self,
        id: &UserId,
        update: &UserUpdate,
    ) -> Result<UpdatedUser, BizError> {
        self.check(|| validate::user_update(update))?;
        let path = ["api", "v1", "enrolledUser", "user", id.as_str()];
        self.json(Method::PUT, &path, update).await
    }

    /// `DELETE /api/v1/enrolledUser/user/{userId}`: removes a Biz user.
    pub async fn delete_user(&self, id: &UserId) -> Result<(), BizError> {
        let path = ["api", "v1", "enrolledUser", "user", id.as_str()];
        self.no_content(Method::DELETE, &path).await
    }

    // -- announcements --------------------------------------------------------------------------

    /// `POST /api/v2/enrolledUser/user/{userApiToken}/announcement?callBack=`: speaks and/or
    /// shows `announcement` on the devices of the user linked with `token`. The API answers at
    /// once; with a `callback` URL it later posts a
    /// [`UserAnnouncementResult`](super::UserAnnouncementResult) there (receive it with
    /// [`CallbackService`](super::CallbackService)). [`BizError::NotFound`]: no such user.
    ///
    /// The body is checked first ([`validate::announcement`]), and `callback` must be `https`
    /// on port 443 or 80 ([`BizError::Unsendable`] otherwise). Never retried.
    ///
    /// ```no_run
    /// # async fn run(client: nugu_proxy::biz::BizClient) -> Result<(), nugu_proxy::biz::BizError> {
    /// use nugu_proxy::biz::{Announcement, Tts, UserApiToken};
    /// let token = UserApiToken::new("the token you made when linking the user");
    /// let reminder = Announcement::new("com.example.attendance").tts(Tts::new("체크인 시간입니다"));
    /// client
    ///     .announce_to_user(&token, &reminder, Some("https://example.com/nugu/announced/1b8e44"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn announce_to_user(
        &self,
        token: &UserApiToken,
        announcement: &Announcement,
        callback: Option<&str>,
    ) -> Result<(), BizError> {
        let path = [
            "api",
            "v2",
            "enrolledUser",
            "user",
            token.expose(),
            "announcement",
        ];
        self.announce(&path, 4, announcement, callback).await
    }

    /// `POST /api/v1/enrolledUser/group/{groupApiToken}/announcement?callBack=`: announces to
    /// the devices of every user of the group whose token (`Group::token`) is `group_token`;
    /// the result posted to `callback` is a
    /// [`GroupAnnouncementResult`](super::GroupAnnouncementResult). As
    /// [`announce_to_user`](Self::announce_to_user) otherwise.
    pub async fn announce_to_group(
        &self,
        group_token: &Sensitive,
        announcement: &Announcement,
        callback: Option<&str>,
    ) -> Result<(), BizError> {
        let path = [
            "api",
            "v1",
            "enrolledUser",
            "group",
            group_token.expose(),
            "announcement",
        ];
        self.announce(&path, 4, announcement, callback).await
    }

    /// `POST /api/v1/sharedDevice/group/{groupApiToken}/announcement?callBack=`: announces to
    /// every device of a shared-device group (token from
    /// [`shared_device_groups`](Self::shared_device_groups)); the result posted to `callback` is
    /// a [`SharedDeviceAnnouncementResult`](super::SharedDeviceAnnouncementResult).
    pub async fn announce_to_shared_device_group(
        &self,
        group_token: &Sensitive,
        announcement: &Announcement,
        callback: Option<&str>,
    ) -> Result<(), BizError> {
        let path = [
            "api",
            "v1",
            "sharedDevice",
            "group",
            group_token.expose(),
            "announcement",
        ];
        self.announce(&path, 4, announcement, callback).await
    }

    /// `GET /api/v1/sharedDevice/group`: the publisher's shared-device groups and devices.
    pub async fn shared_device_groups(&self) -> Result<Vec<SharedDeviceGroup>, BizError> {
        let list: SharedDeviceGroupList = self.get(&["api", "v1", "sharedDevice", "group"]).await?;
        Ok(list.groups)
    }

    async fn announce(
        &self,
        path: &[&str],
        secret_segment: usize,
        announcement: &Announcement,
        callback: Option<&str>,
    ) -> Result<(), BizError> {
        self.check(|| validate::announcement(announcement))?;
        let mut call = Call::new(Method::POST, path).json(announcement)?;
        call.secret_segment = Some(secret_segment);
        if let Some(callback) = callback {
            let url =
                validate::callback_url(callback, "callBack", true, &self.http_callback_hosts)?;
            call.query.push(("callBack", url.into()));
        }
        self.send(call).await.map(drop)
    }

    // -- account linking ------------------------------------------------------------------------

    /// Completes an account link server to server: posts `status`, `userApiToken` and, if
    /// given, `confirmUrl` (query parameters, as the page documents them) to the request's
    /// `callBack`, which [`LinkPolicy`](super::LinkPolicy) has checked. The `Publisher-Token`
    /// is not sent there. The link must be bound to the signed-in user
    /// ([`AuthRequest::for_signed_in_user`](super::AuthRequest::for_signed_in_user)).
    ///
    /// NUGU sends the user's *browser* to the authentication page and aborts the invitation if
    /// the user leaves it; [`SignedInLink::browser_page`](super::SignedInLink::browser_page)
    /// hands the token over through that browser instead, which keeps the user in the flow.
    ///
    /// `token` must be the only token of this email; it becomes usable once NUGU confirms it
    /// ([`LinkResultCode::Ok`](super::LinkResultCode::Ok) at `confirm_url`), and never if the
    /// user abandons the invitation. Never retried.
    pub async fn complete_link(
        &self,
        link: &SignedInLink,
        token: &UserApiToken,
        confirm_url: Option<&ConfirmUrl>,
    ) -> Result<(), BizError> {
        let target = link.target(token, confirm_url).map_err(|err| match err {
            LinkError::EmptyToken => BizError::Unsendable {
                field: "userApiToken",
                reason: "empty",
            },
            _ => BizError::Unsendable {
                field: "callBack",
                reason: "its query names a parameter the link sends",
            },
        })?;
        let mut call = Call::new(Method::POST, &[]);
        call.external = Some(target);
        self.send(call).await.map(drop)
    }

    // -- plumbing -------------------------------------------------------------------------------

    fn check(&self, rule: impl FnOnce() -> Result<(), BizError>) -> Result<(), BizError> {
        if self.validate {
            rule()
        } else {
            Ok(())
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, BizError> {
        decode(&self.send(Call::new(Method::GET, path)).await?)
    }

    async fn page<T: DeserializeOwned>(&self, path: &[&str], page: Page) -> Result<T, BizError> {
        let mut call = Call::new(Method::GET, path);
        call.query = vec![
            ("page", page.number().to_string()),
            ("pageSize", page.page_size().to_string()),
        ];
        decode(&self.send(call).await?)
    }

    async fn json<B, T>(&self, method: Method, path: &[&str], body: &B) -> Result<T, BizError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        decode(&self.send(Call::new(method, path).json(body)?).await?)
    }

    async fn no_content(&self, method: Method, path: &[&str]) -> Result<(), BizError> {
        self.send(Call::new(method, path)).await.map(drop)
    }

    fn url(&self, call: &Call<'_>) -> Result<Url, BizError> {
        // A link's `callBack`, complete: its query was checked where the values were added.
        if let Some(external) = &call.external {
            return Ok(external.clone());
        }
        // An id that cannot name a resource would silently address another path (the URL
        // drops `.` and `..` segments, and an empty one ends in the collection).
        if call
            .path
            .iter()
            .any(|segment| matches!(segment.trim(), "" | "." | ".."))
        {
            return Err(BizError::NotFound);
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| BizError::Config("the base URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Sends a call, retrying idempotent ones, and returns a success answer's body.
    async fn send(&self, call: Call<'_>) -> Result<Bytes, BizError> {
        let url = self.url(&call)?;
        let idempotent = call.method != Method::POST;
        let mut retry = 0;
        loop {
            let outcome = self.attempt(&call, &url).await;
            let transient = matches!(
                &outcome,
                Err(BizError::Server { .. } | BizError::Transport(_) | BizError::Timeout(_))
            );
            if transient && idempotent && retry < self.retry.max_retries {
                let wait = self.retry.delay(retry);
                tracing::debug!(method = %call.method, target = call.log_target(), retry, ?wait, "retrying Biz API call");
                tokio::time::sleep(wait).await;
                retry += 1;
                continue;
            }
            return outcome;
        }
    }

    async fn attempt(&self, call: &Call<'_>, url: &Url) -> Result<Bytes, BizError> {
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .header(ACCEPT, "application/json");
        if call.external.is_none() {
            request = request.header(PUBLISHER_TOKEN_HEADER, self.token.clone());
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(BizError::Redirect {
                status: status.as_u16(),
                host: redirect_host(url, response.headers()),
            });
        }
        let body = read_limited(response).await.map_err(|e| match e {
            ReadError::Http(e) => self.transport(e),
            ReadError::TooLarge => BizError::ResponseTooLarge { limit: MAX_BODY },
        })?;
        tracing::debug!(method = %call.method, target = call.log_target(), status = status.as_u16(), "Biz API answered");
        match status {
            s if s.is_success() => Ok(body),
            StatusCode::BAD_REQUEST => {
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct ErrorBody {
                    error_code: Option<ErrorCode>,
                }
                let code = serde_json::from_slice::<ErrorBody>(&body)
                    .ok()
                    .and_then(|b| b.error_code)
                    .unwrap_or_else(|| ErrorCode::Unknown(String::new()));
                Err(BizError::Api(code))
            }
            StatusCode::UNAUTHORIZED => Err(BizError::NameTaken),
            StatusCode::FORBIDDEN => Err(BizError::Forbidden),
            StatusCode::NOT_FOUND => Err(BizError::NotFound),
            StatusCode::NOT_ACCEPTABLE => Err(BizError::NotAcceptable),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Err(BizError::UnsupportedMediaType),
            s if s.is_server_error() => Err(BizError::Server { status: s.as_u16() }),
            s => Err(BizError::UnexpectedStatus { status: s.as_u16() }),
        }
    }

    fn transport(&self, err: reqwest::Error) -> BizError {
        if err.is_timeout() {
            BizError::Timeout(self.timeout)
        } else {
            // reqwest's message names the URL, whose path or query may hold a token.
            BizError::Transport(err.without_url())
        }
    }
}

/// The host a redirect points to (never its path or query, which may carry data).
fn redirect_host(from: &Url, headers: &reqwest::header::HeaderMap) -> Option<String> {
    let location = headers.get(reqwest::header::LOCATION)?.to_str().ok()?;
    let target = from.join(location).ok()?;
    let host = target.host_str()?;
    Some(match target.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

enum ReadError {
    Http(reqwest::Error),
    TooLarge,
}

async fn read_limited(mut response: reqwest::Response) -> Result<Bytes, ReadError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// Reads a success body; the error names the path and the kind of mismatch, never the value.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, BizError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let reason = match inner.classify() {
            serde_json::error::Category::Data if message.starts_with("missing field") => message
                .split(" at line")
                .next()
                .unwrap_or("missing field")
                .to_owned(),
            serde_json::error::Category::Data => "a value of the wrong type".to_owned(),
            serde_json::error::Category::Eof => "the body ends early".to_owned(),
            _ => format!(
                "not JSON (line {}, column {})",
                inner.line(),
                inner.column()
            ),
        };
        BizError::Decode { path, reason }
    })
}
