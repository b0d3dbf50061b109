//! A kit for unit-testing a play's handlers (feature `testing`; enable it for tests only:
//! `nugu-proxy = { version = "..", features = ["testing"] }` under `[dev-dependencies]`).
//!
//! - [`NuguRequest`] builds what NUGU sends: the action and its parameters, an enrolled user
//!   (complete or not) or none, a Biz-dedicated device, a Play Builder test call, the AudioPlayer context and events, any extra field.
//!   It produces the JSON, an [`http::Request`] with the API key and the transport proof, or an
//!   [`ActionRequest`].
//! - [`call`] runs a request through a service (the layer and your router) and returns the
//!   [`TestResponse`], which reads as a typed [`NuguResponse`] or as the layer's refusal.
//!
//! ```
//! use nugu_proxy::testing::{call, NuguRequest, TestUser, TEST_API_KEY};
//! use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, EnrolledUser, PrivatePlayLayer};
//! use axum::{routing::post, Router};
//!
//! async fn check_in(request: ActionRequest, user: Option<EnrolledUser>) -> ActionResponse {
//!     match user {
//!         Some(user) => ActionResponse::from_request(&request).output("userName", user.name().unwrap_or_default()),
//!         None => ActionResponse::from_request(&request).exception("NOT_ENROLLED"),
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let app = Router::new()
//!     .route("/check_in", post(check_in))
//!     .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()));
//!
//! let request = NuguRequest::action("check_in")
//!     .parameter("place", "lobby")
//!     .enrolled_user(TestUser::new("홍길동", "01012345678", "gildong@example.com"));
//! let answer = call(app.clone(), request.to_http_request()).await.nugu();
//! assert_eq!(answer.result_code, "OK");
//! assert_eq!(answer.output["userName"].as_deref(), Some("홍길동"));
//! assert_eq!(answer.output["place"].as_deref(), Some("lobby")); // parameters are echoed
//!
//! let stranger = NuguRequest::action("check_in").without_enrolled_user();
//! assert_eq!(call(app, stranger.to_http_request()).await.nugu().result_code, "NOT_ENROLLED");
//! # });
//! ```
//!
//! The transport proof is [`dangerous_test_transport`]: a [`ConnectionInfo`] that claims TLS
//! for a connection that never happened. The crate's server inserts the real one; never insert
//! this one outside tests.

use std::collections::BTreeMap;
use std::fmt;
use std::future::poll_fn;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_service::Service;

use crate::transport::{ConnectionInfo, TlsInfo, TlsVersion, Transport};
use crate::ActionRequest;

/// The API key [`NuguRequest`] sends unless told otherwise; build the layer under test with it:
/// `PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap())`.
pub const TEST_API_KEY: &str = "nugu-proxy-test-api-key";

/// The `event.type` [`NuguRequest`] sends for a spoken request (unless told
/// [`event`](NuguRequest::event) or [`without_event`](NuguRequest::without_event)).
///
/// NUGU's reference marks `event` mandatory and shows it, for any request, as an object with a
/// `type`; its pages do not name the type of a request the user spoke. The kit sends this
/// stand-in (the NUGU SDK's text-input event) so that a handler which takes "has an `event`"
/// for "is a playback callback" fails its tests: tell them apart by the type
/// ([`ActionRequest::audio_player_event`]), never by the presence of `event`.
pub const SPOKEN_EVENT_TYPE: &str = "Text.TextInput";

/// A proof of HTTPS for a request that never crossed a network: TLS 1.3 with `h2` from
/// `127.0.0.1:1`. [`NuguRequest::to_http_request`] inserts it.
///
/// Only for tests: in production the crate's server inserts the proof after a real handshake,
/// and inserting this one would let plain-HTTP requests (and their personal data) through.
///
/// ```
/// let proof = nugu_proxy::testing::dangerous_test_transport();
/// assert!(proof.is_https());
/// ```
pub fn dangerous_test_transport() -> ConnectionInfo {
    ConnectionInfo::new(
        ([127, 0, 0, 1], 1).into(),
        Transport::Tls(TlsInfo::new(TlsVersion::Tls13, Some(b"h2".to_vec()), None)),
    )
}

/// An enrolled user (`profile.privatePlay.enrolledUser`) for [`NuguRequest::enrolled_user`].
///
/// ```
/// use nugu_proxy::testing::{NuguRequest, TestUser};
///
/// let user = TestUser::new("김철수", "01098765432", "cs@example.com").tag("E-1024");
/// let request = NuguRequest::action("check_in").enrolled_user(user).to_action_request();
/// assert_eq!(request.enrolled_user().unwrap().tag(), Some("E-1024"));
///
/// // A user NUGU sends without a phone number, and with a null name: still enrolled.
/// let user = TestUser::sample().without("phoneNo").field("name", serde_json::Value::Null);
/// let request = NuguRequest::action("check_in").enrolled_user(user).to_action_request();
/// let user = request.enrolled_user().unwrap();
/// assert_eq!((user.name(), user.phone_no()), (None, None));
/// assert!(!user.is_complete());
/// ```
#[derive(Clone)]
pub struct TestUser {
    fields: Map<String, Value>,
}

impl TestUser {
    /// A user with `name`, `phoneNo` and `email`, the three fields NUGU's page marks
    /// mandatory (a user may lack one all the same: see [`without`](Self::without)).
    pub fn new(name: &str, phone_no: &str, email: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("name".into(), name.into());
        fields.insert("phoneNo".into(), phone_no.into());
        fields.insert("email".into(), email.into());
        Self { fields }
    }

    /// 홍길동, 01012345678, gildong@example.com, tag `E1234`: the user [`NuguRequest`] sends by
    /// default.
    pub fn sample() -> Self {
        Self::new("홍길동", "01012345678", "gildong@example.com").tag("E1234")
    }

    /// The `tag` (employee number, shop code...).
    pub fn tag(self, tag: &str) -> Self {
        self.field("tag", tag)
    }

    /// The `userToken` (Biz Kit full edition).
    pub fn user_token(self, token: &str) -> Self {
        self.field("userToken", token)
    }

    /// The `serviceType` (`PLAY`, `SERVICE`, or any value NUGU may add).
    pub fn service_type(self, service_type: &str) -> Self {
        self.field("serviceType", service_type)
    }

    /// Any other field of `enrolledUser`, as raw JSON (`null` included).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Leaves the field `name` (its wire name: `phoneNo`, `email`...) out of `enrolledUser`.
    pub fn without(mut self, name: &str) -> Self {
        self.fields.remove(name);
        self
    }
}

impl fmt::Debug for TestUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Test data, but still shaped like personal data: keep it out of test logs too.
        f.debug_struct("TestUser").finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
enum Profile {
    Enrolled(TestUser),
    NoEnrolledUser,
    /// A Biz-dedicated device: its `deviceUniqueId`, no enrolled user.
    DedicatedDevice(String),
    None,
}

/// A NUGU action request, as NUGU would send it, for tests.
///
/// By default: version `2.0`, no parameters, a speaker's context, the `event` of a spoken
/// request (`{"type":` [`SPOKEN_EVENT_TYPE`]`}`), `profile.privatePlay` with
/// [`TestUser::sample`] enrolled, `Authorization: token` [`TEST_API_KEY`], path
/// `/{actionName}`.
///
/// ```
/// use nugu_proxy::testing::NuguRequest;
///
/// let json = NuguRequest::action("play_music")
///     .parameter("song", "아리랑")
///     .null_parameter("artist")
///     .audio_player("PLAYING", Some("track-1"), 42_000)
///     .event("AudioPlayer.PlaybackStarted", Some("track-1"), 0)
///     .field("/context/device/state", serde_json::json!({"volume": 7}))
///     .to_json();
/// assert_eq!(json["action"]["parameters"]["song"]["value"], "아리랑");
/// assert!(json["action"]["parameters"]["artist"]["value"].is_null());
/// assert_eq!(json["context"]["supportedInterfaces"]["AudioPlayer"]["playerActivity"], "PLAYING");
/// assert_eq!(json["event"]["type"], "AudioPlayer.PlaybackStarted");
/// assert_eq!(json["context"]["device"]["state"]["volume"], 7);
/// ```
#[derive(Clone, Debug)]
pub struct NuguRequest {
    action: String,
    parameters: Map<String, Value>,
    profile: Profile,
    play_builder: bool,
    audio_player: Option<Value>,
    event: Option<Value>,
    fields: Vec<(String, Value)>,
    raw_body: Option<Bytes>,
    api_key: Option<String>,
    /// Whether the test chose the key (or its lack), which a [`PlayUnderTest`] then keeps.
    own_key: bool,
    path_prefix: String,
}

impl NuguRequest {
    /// A request for the action `name` (`action.actionName`, and the last path segment).
    pub fn action(name: &str) -> Self {
        Self {
            action: name.to_owned(),
            parameters: Map::new(),
            profile: Profile::Enrolled(TestUser::sample()),
            play_builder: false,
            audio_player: None,
            event: Some(json!({ "type": SPOKEN_EVENT_TYPE })),
            fields: Vec::new(),
            raw_body: None,
            api_key: Some(TEST_API_KEY.to_owned()),
            own_key: false,
            path_prefix: String::new(),
        }
    }

    /// A parameter `{"type": null, "value": value}` in `action.parameters`.
    pub fn parameter(self, name: &str, value: &str) -> Self {
        self.raw_parameter(name, json!({ "type": null, "value": value }))
    }

    /// A parameter with an entity type: `{"type": entity_type, "value": value}`.
    pub fn typed_parameter(self, name: &str, entity_type: &str, value: &str) -> Self {
        self.raw_parameter(name, json!({ "type": entity_type, "value": value }))
    }

    /// A parameter without a value (`{"type": null, "value": null}`), as NUGU sends an
    /// unfilled one.
    pub fn null_parameter(self, name: &str) -> Self {
        self.raw_parameter(name, json!({ "type": null, "value": null }))
    }

    fn raw_parameter(mut self, name: &str, value: Value) -> Self {
        self.parameters.insert(name.to_owned(), value);
        self
    }

    /// `profile.privatePlay.enrolledUser` is this user.
    pub fn enrolled_user(mut self, user: TestUser) -> Self {
        self.profile = Profile::Enrolled(user);
        self
    }

    /// `profile.privatePlay` without `enrolledUser` (nor `deviceUniqueId`).
    pub fn without_enrolled_user(mut self) -> Self {
        self.profile = Profile::NoEnrolledUser;
        self
    }

    /// The request of a Biz-dedicated device: `profile.privatePlay` holds its `deviceUniqueId`
    /// (the registration number printed under the speaker), `userKey` and `deviceKey`, and no
    /// `enrolledUser`.
    ///
    /// ```
    /// use nugu_proxy::testing::NuguRequest;
    ///
    /// let request = NuguRequest::action("check_in").biz_dedicated_device("NU200_LOBBY1");
    /// let play = request.to_action_request().private_play().cloned().unwrap();
    /// assert_eq!(play.device_unique_id(), Some("NU200_LOBBY1"));
    /// assert!(play.enrolled_user().is_none());
    /// ```
    pub fn biz_dedicated_device(mut self, device_unique_id: &str) -> Self {
        self.profile = Profile::DedicatedDevice(device_unique_id.to_owned());
        self
    }

    /// No `profile` at all, as for a public play.
    pub fn without_profile(mut self) -> Self {
        self.profile = Profile::None;
        self
    }

    /// A Play Builder test call: `context.session.isPlayBuilderRequest: true` and no
    /// `Authorization` header. The layer lets it through only with
    /// `allow_play_builder_test_calls()`, and then without its profile.
    pub fn play_builder_call(mut self) -> Self {
        self.play_builder = true;
        self.api_key = None;
        self.own_key = true;
        self
    }

    /// `context.supportedInterfaces.AudioPlayer`: the player's activity (`IDLE`, `PLAYING`,
    /// `PAUSED`, `STOPPED`, `FINISHED`), its stream token and position.
    pub fn audio_player(mut self, activity: &str, token: Option<&str>, offset_ms: u64) -> Self {
        self.audio_player = Some(stream_position(
            json!({ "playerActivity": activity }),
            token,
            offset_ms,
        ));
        self
    }

    /// The `event` that caused the request, e.g. `AudioPlayer.PlaybackFinished`.
    pub fn event(mut self, event_type: &str, token: Option<&str>, offset_ms: u64) -> Self {
        self.event = Some(stream_position(
            json!({ "type": event_type }),
            token,
            offset_ms,
        ));
        self
    }

    /// No `event` at all, as real payloads have been seen (the kit sends a spoken request's
    /// `event` by default: see [`SPOKEN_EVENT_TYPE`]).
    pub fn without_event(mut self) -> Self {
        self.event = None;
        self
    }

    /// Sends `body` as it is instead of the JSON this builder makes (which
    /// [`to_json`](Self::to_json) still shows): a malformed, truncated or odd body, with the
    /// head NUGU sends.
    ///
    /// ```
    /// use nugu_proxy::testing::NuguRequest;
    ///
    /// let request = NuguRequest::action("book").raw_body(r#"{"action": "#).to_http_request();
    /// assert_eq!(request.headers()["content-type"], "application/json");
    /// # use http_body_util::BodyExt;
    /// # let body = futures_util::FutureExt::now_or_never(request.into_body().collect()).unwrap().unwrap();
    /// # assert_eq!(&body.to_bytes()[..], br#"{"action": "#);
    /// ```
    pub fn raw_body(mut self, body: impl Into<Bytes>) -> Self {
        self.raw_body = Some(body.into());
        self
    }

    /// Sets any field, at a JSON pointer (`/context/session/accessToken`), creating the objects
    /// on the way; applied last, so it overrides what the other methods set.
    pub fn field(mut self, pointer: &str, value: impl Into<Value>) -> Self {
        self.fields.push((pointer.to_owned(), value.into()));
        self
    }

    /// `Authorization: token {key}` instead of [`TEST_API_KEY`].
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self.own_key = true;
        self
    }

    /// No `Authorization` header.
    pub fn without_api_key(mut self) -> Self {
        self.api_key = None;
        self.own_key = true;
        self
    }

    /// The path of the registered Web URL, e.g. `/nugu`: the request goes to
    /// `{prefix}/{actionName}`.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// The path NUGU calls: `{prefix}/{actionName}`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.path_prefix, self.action)
    }

    /// The request body, as JSON.
    pub fn to_json(&self) -> Value {
        let mut supported = Value::Null;
        if let Some(player) = &self.audio_player {
            supported = json!({ "AudioPlayer": player });
        }
        let mut body = json!({
            "version": "2.0",
            "action": { "actionName": self.action, "parameters": self.parameters },
            "context": {
                "session": {
                    "id": "test-session",
                    "isNew": true,
                    "isPlayBuilderRequest": self.play_builder,
                },
                "device": { "type": "speaker.nugu.nu200", "state": {} },
                "supportedInterfaces": supported,
                "privatePlay": {},
            },
        });
        if let Some(event) = &self.event {
            body["event"] = event.clone();
        }
        let private_play = |user: Option<&TestUser>| {
            let mut play = json!({ "userKey": "test-user-key", "deviceKey": "test-device-key" });
            if let Some(user) = user {
                play["enrolledUser"] = Value::Object(user.fields.clone());
            }
            json!({ "privatePlay": play })
        };
        match &self.profile {
            Profile::Enrolled(user) => body["profile"] = private_play(Some(user)),
            Profile::NoEnrolledUser => body["profile"] = private_play(None),
            Profile::DedicatedDevice(id) => {
                body["profile"] = private_play(None);
                body["profile"]["privatePlay"]["deviceUniqueId"] = id.as_str().into();
            }
            Profile::None => {}
        }
        for (pointer, value) in &self.fields {
            *pointer_mut(&mut body, pointer) = value.clone();
        }
        body
    }

    /// The request body, as bytes: the [`raw_body`](Self::raw_body) if one was given, else
    /// [`to_json`](Self::to_json).
    pub fn to_body(&self) -> Bytes {
        match &self.raw_body {
            Some(body) => body.clone(),
            None => Bytes::from(self.to_json().to_string()),
        }
    }

    /// The request as NUGU sends it over HTTPS: `POST {path}` with `Content-Type:
    /// application/json`, `Authorization: token <key>` (unless it is a Play Builder call or
    /// [`without_api_key`](Self::without_api_key)), and [`dangerous_test_transport`] in its
    /// extensions, where the crate's server would put the real proof.
    ///
    /// ```
    /// use nugu_proxy::testing::NuguRequest;
    /// use nugu_proxy::transport::ConnectionInfo;
    ///
    /// let request = NuguRequest::action("check_in").path_prefix("/nugu").to_http_request();
    /// assert_eq!(request.uri(), "/nugu/check_in");
    /// assert_eq!(request.headers()["authorization"], "token nugu-proxy-test-api-key");
    /// assert!(request.extensions().get::<ConnectionInfo>().is_some());
    /// ```
    ///
    /// # Panics
    ///
    /// When the action name or [`path_prefix`](Self::path_prefix) makes a path that is not a
    /// valid URI (a space, for instance): a mistake in the test, not in the code under test.
    pub fn to_http_request(&self) -> Request<Full<Bytes>> {
        let mut builder = Request::post(self.path())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, */*")
            .extension(dangerous_test_transport());
        if let Some(key) = &self.api_key {
            builder = builder.header(http::header::AUTHORIZATION, format!("token {key}"));
        }
        builder
            .body(Full::new(self.to_body()))
            .expect("the path is made of the action name, which the caller gives")
    }

    /// The parsed request, as the layer would hand it to a handler (with its profile even for a
    /// Play Builder call: only the layer drops that).
    ///
    /// ```
    /// use nugu_proxy::testing::NuguRequest;
    ///
    /// let request = NuguRequest::action("check_in").parameter("place", "lobby").to_action_request();
    /// assert_eq!(request.parameters().value("place"), Some("lobby"));
    /// assert_eq!(request.enrolled_user().unwrap().name(), Some("홍길동"));
    /// ```
    ///
    /// # Panics
    ///
    /// When [`field`](Self::field) made the body something the model refuses.
    pub fn to_action_request(&self) -> ActionRequest {
        ActionRequest::from_bytes(self.to_body())
            .unwrap_or_else(|e| panic!("NuguRequest built a body the model refuses: {e}"))
    }
}

/// A play under test: the app (the layer and your router), the Web URL's path prefix and the
/// API key, given once; [`call`](Self::call) sends each [`NuguRequest`] with them.
///
/// A request keeps what it sets itself: its own [`path_prefix`](NuguRequest::path_prefix), and
/// its own key, [`without_api_key`](NuguRequest::without_api_key) or Play Builder call.
///
/// ```
/// use axum::{routing::post, Router};
/// use nugu_proxy::testing::{NuguRequest, PlayUnderTest, TEST_API_KEY};
/// use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, PrivatePlayLayer};
///
/// async fn book(request: ActionRequest) -> ActionResponse {
///     ActionResponse::from_request(&request).output("room", "A-301")
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let app = Router::new()
///     .route("/nugu/book", post(book))
///     .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()));
/// let play = PlayUnderTest::new(app).path_prefix("/nugu");
///
/// let answer = play.call(NuguRequest::action("book")).await.nugu();
/// assert_eq!(answer.output["room"].as_deref(), Some("A-301"));
/// let malformed = play.call(NuguRequest::action("book").raw_body("{")).await;
/// assert_eq!(malformed.rejection().unwrap().error, "malformed_request");
/// # });
/// ```
#[derive(Clone)]
pub struct PlayUnderTest<S> {
    app: S,
    path_prefix: String,
    api_key: String,
}

impl<S> PlayUnderTest<S> {
    /// The play `app`, served at `/` with [`TEST_API_KEY`].
    pub fn new(app: S) -> Self {
        Self {
            app,
            path_prefix: String::new(),
            api_key: TEST_API_KEY.to_owned(),
        }
    }

    /// The path of the registered Web URL, e.g. `/nugu` (see [`NuguRequest::path_prefix`]).
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// The API key requests carry (the one the app's layer was built with).
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = key.to_owned();
        self
    }

    /// Sends `request` (with this play's prefix and key, unless it set its own) to a clone of
    /// the app, and reads the answer: see [`call`].
    pub async fn call<B>(&self, mut request: NuguRequest) -> TestResponse
    where
        S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
        S::Error: fmt::Debug,
        B: Body,
        B::Error: fmt::Debug,
    {
        if request.path_prefix.is_empty() {
            request.path_prefix.clone_from(&self.path_prefix);
        }
        if !request.own_key {
            request.api_key = Some(self.api_key.clone());
        }
        call(self.app.clone(), request.to_http_request()).await
    }
}

impl<S> fmt::Debug for PlayUnderTest<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is a test key, but a key all the same.
        f.debug_struct("PlayUnderTest")
            .field("path_prefix", &self.path_prefix)
            .finish_non_exhaustive()
    }
}

/// `object` with a stream's `token` (when there is one) and `offsetInMilliseconds`.
fn stream_position(mut object: Value, token: Option<&str>, offset_ms: u64) -> Value {
    object["offsetInMilliseconds"] = offset_ms.into();
    if let Some(token) = token {
        object["token"] = token.into();
    }
    object
}

/// The value at a JSON pointer, made (as objects) where missing.
fn pointer_mut<'a>(mut value: &'a mut Value, pointer: &str) -> &'a mut Value {
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        value = value
            .as_object_mut()
            .expect("made an object above")
            .entry(token)
            .or_insert(Value::Null);
    }
    value
}

/// What a service answered: status, headers and the whole body.
#[derive(Clone, Debug)]
pub struct TestResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON (the message shows the status and body).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the answer is not JSON ({e}): {} {:?}",
                self.status, self.body
            )
        })
    }

    /// The body as a NUGU response.
    ///
    /// # Panics
    ///
    /// When the status is not 200 or the body is not a NUGU response (the message shows both),
    /// e.g. when the layer refused the request: see [`rejection`](Self::rejection).
    pub fn nugu(&self) -> NuguResponse {
        assert_eq!(
            self.status, 200,
            "expected a NUGU response, got {} {:?}",
            self.status, self.body
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the answer is not a NUGU response ({e}): {:?}", self.body))
    }

    /// The layer's (or the server's) refusal, `{"error": code, "message": ...}`, if the answer
    /// is one.
    pub fn rejection(&self) -> Option<Rejection> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A NUGU backend-proxy response, parsed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NuguResponse {
    /// `version` (`2.0`).
    pub version: String,
    /// `resultCode`: `OK`, or the play's exception code.
    pub result_code: String,
    /// `output`: every key of the request's parameters and what the handler added, each a
    /// string or null.
    #[serde(default)]
    pub output: BTreeMap<String, Option<String>>,
    /// `directives`, as raw JSON.
    #[serde(default)]
    pub directives: Vec<Value>,
}

impl NuguResponse {
    /// The `type` of each directive, in order (`AudioPlayer.Play`...).
    pub fn directive_types(&self) -> Vec<&str> {
        self.directives
            .iter()
            .map(|d| d["type"].as_str().unwrap_or_default())
            .collect()
    }
}

/// A refusal's JSON body.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// The machine-readable code (`invalid_credentials`...).
    pub error: String,
    /// Why, in words.
    pub message: String,
}

/// Runs `request` through `service` (waiting until it is ready) and reads the whole answer.
///
/// ```
/// use nugu_proxy::testing::{call, NuguRequest, TEST_API_KEY};
/// use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, PrivatePlayLayer};
/// use tower::ServiceBuilder;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let play = ServiceBuilder::new()
///     .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()))
///     .service_fn(|request: http::Request<_>| async move {
///         let action = request.extensions().get::<ActionRequest>().unwrap();
///         Ok::<_, std::convert::Infallible>(ActionResponse::from_request(action).into_http())
///     });
///
/// let wrong_key = NuguRequest::action("check_in").api_key("not-the-key");
/// let answer = call(play, wrong_key.to_http_request()).await;
/// assert_eq!(answer.status, 401);
/// assert_eq!(answer.rejection().unwrap().error, "invalid_credentials");
/// # });
/// ```
///
/// # Panics
///
/// When the service or the response body fails (the message shows the error).
pub async fn call<S, B>(mut service: S, request: Request<Full<Bytes>>) -> TestResponse
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>>,
    S::Error: fmt::Debug,
    B: Body,
    B::Error: fmt::Debug,
{
    poll_fn(|cx| service.poll_ready(cx))
        .await
        .unwrap_or_else(|e| panic!("the service is not ready: {e:?}"));
    let response = service
        .call(request)
        .await
        .unwrap_or_else(|e| panic!("the service failed: {e:?}"));
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .unwrap_or_else(|e| panic!("the response body failed: {e:?}"))
        .to_bytes();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
