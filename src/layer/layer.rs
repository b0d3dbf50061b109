//! [`PrivatePlayLayer`]: the configuration, cheap to clone.

use std::sync::Arc;

use http::Method;
use tower_layer::Layer;

use super::auth::ApiKey;
use super::PrivatePlayService;
use crate::Play;

/// The default body limit: 64 KiB. A typical NUGU request is 1-2 KB; one with many parameters
/// about 16 KB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// A tower [`Layer`] that parses, checks and authenticates NUGU Private Play action requests.
///
/// For every request it checks, in this order:
/// 1. **HTTPS**: the request's extensions hold a [`ConnectionInfo`](crate::transport::ConnectionInfo)
///    that proves HTTPS (the crate's server adds one); otherwise 403
///    ([`InsecureTransport`](crate::rejection::InsecureTransport)). NUGU requires HTTPS for
///    Private Plays, so the layer fails closed.
/// 2. **Size**: `Content-Length` over the limit is refused before reading (413), and a body
///    without one is read only up to the limit.
/// 3. **Method**: `POST`, NUGU's only method, or 405 with `Allow: POST`
///    ([`MethodNotAllowed`](crate::rejection::MethodNotAllowed)); the methods named in
///    [`PrivatePlayLayer::pass_through_unauthenticated`] go to the inner service unchecked,
///    with an empty body.
///
/// Then, for `POST`:
///
/// 4. **Content type**: `application/json` or 415.
/// 5. **Authentication**: `Authorization: token <API key>`, compared in constant time, or 401.
/// 6. **Body**: parsed once into an [`ActionRequest`](crate::ActionRequest) (400 with the JSON
///    path on error); `action.actionName` must equal the last path segment (400).
/// 7. **Extensions**: the [`ActionRequest`](crate::ActionRequest), the
///    [`PrivatePlay`](crate::PrivatePlay) profile and the [`EnrolledUser`](crate::EnrolledUser)
///    when present, and the [`Authentication`](super::Authentication) used. The inner service
///    gets the same bytes as its body, so extractors such as `axum::Json` still work (a Play
///    Builder test call's body comes without its `profile`, see
///    [`PrivatePlayLayer::allow_play_builder_test_calls`]). Its `Content-Length` is the length
///    of the body it gets, and it carries no `Transfer-Encoding`: the body is read whole, and a
///    handler may forward the request as it is.
///
/// A request refused from its head alone (403, 405, 415, 401) has its body read and discarded
/// first, up to the body limit, so that an HTTP/2 client gets the answer rather than a reset
/// stream.
///
/// Building one forces the authentication choice: [`PrivatePlayLayer::new`] with the API key,
/// or [`PrivatePlayLayer::dangerous_without_authentication`].
///
/// ```
/// use nugu_proxy::{layer::ApiKey, PrivatePlayLayer};
///
/// let layer = PrivatePlayLayer::new(ApiKey::new("my-nugu-api-key").unwrap())
///     .allow_play_builder_test_calls()
///     .enrolled_users_only("NOT_ENROLLED")
///     .body_limit(32 * 1024);
/// # let _ = layer;
/// ```
#[derive(Clone, Debug)]
pub struct PrivatePlayLayer {
    pub(crate) config: Arc<Config>,
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) body_limit: usize,
    pub(crate) play_builder_calls: bool,
    /// Play Builder test calls reach the handlers with a `StandInUser`.
    pub(crate) play_builder_stand_in: bool,
    pub(crate) enrolled_only: Option<String>,
    /// The backend parameters every answer names.
    pub(crate) play: Play,
    pub(crate) insecure_transport: bool,
    /// Methods other than `POST` that go to the inner service untouched.
    pub(crate) pass_through: Vec<Method>,
}

impl PrivatePlayLayer {
    /// A layer that requires `Authorization: token <api_key>` on every action request.
    pub fn new(api_key: ApiKey) -> Self {
        Self::with_key(Some(api_key))
    }

    /// A layer that authenticates nothing: anyone who can reach the server can send a body that
    /// claims to be any enrolled user. Only for a proxy that something else authenticates.
    ///
    /// ```
    /// let layer = nugu_proxy::PrivatePlayLayer::dangerous_without_authentication();
    /// # let _ = layer;
    /// ```
    pub fn dangerous_without_authentication() -> Self {
        Self::with_key(None)
    }

    fn with_key(api_key: Option<ApiKey>) -> Self {
        Self {
            config: Arc::new(Config {
                api_key,
                body_limit: DEFAULT_BODY_LIMIT,
                play_builder_calls: false,
                play_builder_stand_in: false,
                enrolled_only: None,
                play: Play::new(),
                insecure_transport: false,
                pass_through: Vec::new(),
            }),
        }
    }

    fn update(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(Arc::make_mut(&mut self.config));
        self
    }

    /// Sets the largest body accepted, in bytes ([`DEFAULT_BODY_LIMIT`] by default).
    pub fn body_limit(self, bytes: usize) -> Self {
        self.update(|c| c.body_limit = bytes)
    }

    /// Lets Play Builder's test calls through: a request with **no** `Authorization` header
    /// whose body says `context.session.isPlayBuilderRequest: true`.
    ///
    /// Such a body proves nothing, so the request is marked
    /// [`Authentication::PlayBuilderTestCall`](super::Authentication::PlayBuilderTestCall), its
    /// `profile` is removed from the body the inner service receives (however it is placed or
    /// escaped, and every top-level member a case-insensitive reader would take for it:
    /// `Profile`, `PROFILE`, `profile\u0000`...), the [`ActionRequest`](crate::ActionRequest) extension is the parse of that body,
    /// and no [`PrivatePlay`](crate::PrivatePlay) or [`EnrolledUser`](crate::EnrolledUser)
    /// extension is inserted: a forged body can never impersonate an enrolled user, neither to a
    /// handler that reads the extensions nor to one that reads the body (`axum::Json`). A request
    /// with a wrong key is refused whatever its body says.
    ///
    /// So a test call never has an enrolled user: under
    /// [`enrolled_users_only`](Self::enrolled_users_only) the layer answers every one with the
    /// not-enrolled code, and Play Builder's test window plays that exception. To let test calls
    /// reach the handlers, see [`play_builder_stand_in_user`](Self::play_builder_stand_in_user).
    pub fn allow_play_builder_test_calls(self) -> Self {
        self.update(|c| c.play_builder_calls = true)
    }

    /// Lets Play Builder's test calls through (as
    /// [`allow_play_builder_test_calls`](Self::allow_play_builder_test_calls) does) and on to
    /// the handlers even under [`enrolled_users_only`](Self::enrolled_users_only), each with a
    /// [`StandInUser`](super::StandInUser) in its extensions in place of an enrolled user.
    ///
    /// Anyone who can reach the server can send such a call (it needs no key, only
    /// `isPlayBuilderRequest: true`), so with this option anyone reaches your handlers as the
    /// stand-in. The stand-in cannot pass for an enrolled user: it is a type of its own, never an
    /// [`EnrolledUser`](crate::EnrolledUser) (a handler that takes `Option<EnrolledUser>` sees
    /// `None`), and carries no personal data. A handler that asks for it must answer it with
    /// sample values and act on nothing. Requests with the API key never get one: a speaker
    /// without an enrolled user is still answered the not-enrolled code, and so is any request
    /// without one under
    /// [`dangerous_without_authentication`](Self::dangerous_without_authentication), which tells
    /// no test call apart.
    ///
    /// ```
    /// use nugu_proxy::{layer::ApiKey, PrivatePlayLayer};
    ///
    /// let layer = PrivatePlayLayer::new(ApiKey::new("my-nugu-api-key").unwrap())
    ///     .enrolled_users_only("NOT_ENROLLED")
    ///     .play_builder_stand_in_user();
    /// # let _ = layer;
    /// ```
    pub fn play_builder_stand_in_user(self) -> Self {
        self.update(|c| {
            c.play_builder_calls = true;
            c.play_builder_stand_in = true;
        })
    }

    /// Declares the play's backend parameters ([`Play`]): every
    /// [`ActionResponse::from_request`](crate::ActionResponse::from_request) built from a
    /// request this layer handed on, and the layer's own NUGU answers, name each backend
    /// parameter of the action, null when it has no value. Given again, replaces the last.
    ///
    /// ```
    /// use nugu_proxy::{layer::ApiKey, Play, PrivatePlayLayer};
    ///
    /// let layer = PrivatePlayLayer::new(ApiKey::new("my-nugu-api-key").unwrap())
    ///     .play(Play::new().action("book", ["roomId", "bookingResult"]))
    ///     .enrolled_users_only("NOT_ENROLLED");
    /// # let _ = layer;
    /// ```
    pub fn play(self, play: Play) -> Self {
        self.update(|c| c.play = play)
    }

    /// For plays that serve enrolled users only: an action request without an
    /// [`EnrolledUser`](crate::EnrolledUser) is answered by the layer with HTTP 200 and
    /// `resultCode: result_code` (every parameter echoed, and every backend parameter declared
    /// with [`play`](Self::play) named), so the speaker plays that exception's prompt; the
    /// handler never sees it. An enrolled user lacking `name`, `phoneNo` or `email`
    /// is enrolled and passes; a Biz-dedicated device (no `enrolledUser`) and a `privatePlay`
    /// set aside for lacking `userKey` or `deviceKey`
    /// ([`ActionRequest::private_play_set_aside`](crate::ActionRequest::private_play_set_aside))
    /// are answered.
    ///
    /// So is every Play Builder test call, since its profile is dropped (see
    /// [`allow_play_builder_test_calls`](Self::allow_play_builder_test_calls)), unless the layer
    /// lets them through as a [`StandInUser`](super::StandInUser)
    /// ([`play_builder_stand_in_user`](Self::play_builder_stand_in_user)).
    pub fn enrolled_users_only(self, result_code: impl Into<String>) -> Self {
        let code = result_code.into();
        self.update(|c| c.enrolled_only = Some(code))
    }

    /// Lets requests with these methods reach the inner service **unauthenticated and without
    /// their body**: no `Content-Type` or `Authorization` check, no parsing, no extensions (the
    /// HTTPS and body-size checks still apply), and the body is read and dropped, so the inner
    /// service gets an empty one (without `Content-Length` or `Transfer-Encoding`): a handler
    /// that reads bodies, such as `axum::Json` under `any()`, cannot take an unauthenticated one
    /// for NUGU's. For routes of your own next to the actions, such as a status page; the handler
    /// must treat such a request as coming from anyone.
    ///
    /// By default every method but `POST` is refused with `405` and `Allow: POST`. Methods are
    /// compared exactly (`GET` is not `get`). The server's health check (`GET {prefix}/health`)
    /// needs nothing here: the server answers it before the service.
    ///
    /// ```
    /// use http::Method;
    /// use nugu_proxy::{layer::ApiKey, PrivatePlayLayer};
    ///
    /// let layer = PrivatePlayLayer::new(ApiKey::new("my-nugu-api-key").unwrap())
    ///     .pass_through_unauthenticated([Method::GET, Method::HEAD]);
    /// # let _ = layer;
    /// ```
    ///
    /// # Panics
    ///
    /// If `methods` holds `POST`: action requests are always checked (switching authentication
    /// off is [`PrivatePlayLayer::dangerous_without_authentication`]).
    pub fn pass_through_unauthenticated(self, methods: impl IntoIterator<Item = Method>) -> Self {
        let methods: Vec<Method> = methods.into_iter().collect();
        assert!(
            !methods.contains(&Method::POST),
            "POST is NUGU's method and is always checked; it cannot pass through"
        );
        self.update(|c| c.pass_through.extend(methods))
    }

    /// Lets requests through that carry no proof of HTTPS, e.g. under a plain-HTTP test server.
    /// NUGU rejects Private Plays served over plain HTTP, and their requests carry personal data.
    pub fn dangerous_allow_insecure_transport(self) -> Self {
        self.update(|c| c.insecure_transport = true)
    }
}

impl<S> Layer<S> for PrivatePlayLayer {
    type Service = PrivatePlayService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PrivatePlayService::new(inner, self.clone())
    }
}
