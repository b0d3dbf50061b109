//! Backend-proxy middleware for SK Telecom NUGU **Private Plays**.
//!
//! NUGU calls `POST {Web URL}/{actionName}` on your server for every action of a play; for a
//! Private Play the body carries the invited, enrolled company user
//! (`profile.privatePlay.enrolledUser`: name, phone, email, tag...). This crate:
//!
//! - parses that body once into typed values ([`ActionRequest`], [`PrivatePlay`],
//!   [`EnrolledUser`]) whose `Debug` masks personal data ([`request`]);
//! - checks and authenticates each request in a tower layer ([`PrivatePlayLayer`]) that puts
//!   those values into the request's extensions, and answers bad requests with typed
//!   rejections ([`rejection`]);
//! - builds responses that keep NUGU's rules ([`ActionResponse`]), naming the backend
//!   parameters a [`Play`] declares once in every answer, the layer's own included;
//! - serves over HTTPS only (feature `server`), since NUGU refuses Private Plays on plain HTTP.
//!
//! # A handler
//!
//! With axum (feature `axum`), a handler takes what the layer parsed ([`extract`]):
//!
//! ```
//! use axum::{routing::post, Router};
//! use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, EnrolledUser, PrivatePlayLayer};
//!
//! async fn check_in(request: ActionRequest, user: Option<EnrolledUser>) -> ActionResponse {
//!     match user {
//!         Some(user) => ActionResponse::from_request(&request).output("userName", user.name().unwrap_or_default()),
//!         None => ActionResponse::from_request(&request).exception("NOT_ENROLLED"),
//!     }
//! }
//!
//! let layer = PrivatePlayLayer::new(ApiKey::new("my-nugu-api-key").unwrap());
//! let app: Router = Router::new().route("/nugu/check_in", post(check_in)).layer(layer);
//! # let _ = app;
//! ```
//!
//! With plain tower, the same values are in the request's extensions. The request below is
//! what NUGU sends; [`testing`] (feature `testing`) builds it, with the proof of HTTPS that the
//! crate's server would attach after a real TLS handshake:
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use nugu_proxy::testing::{call, NuguRequest};
//! use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, EnrolledUser, PrivatePlayLayer};
//! use tower::ServiceBuilder;
//!
//! async fn check_in(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
//!     let action = req.extensions().get::<ActionRequest>().expect("set by PrivatePlayLayer");
//!     let response = match req.extensions().get::<EnrolledUser>() {
//!         Some(user) => ActionResponse::from_request(action).output("userName", user.name().unwrap_or_default()),
//!         None => ActionResponse::from_request(action).exception("NOT_ENROLLED"),
//!     };
//!     Ok(response.into_http())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let play = ServiceBuilder::new()
//!     .layer(PrivatePlayLayer::new(ApiKey::new("my-nugu-api-key").unwrap()))
//!     .service_fn(check_in);
//!
//! let request = NuguRequest::action("check_in").path_prefix("/nugu").api_key("my-nugu-api-key");
//! let answer = call(play, request.to_http_request()).await.nugu();
//! assert_eq!(answer.output["userName"].as_deref(), Some("홍길동"));
//! # }
//! ```
//!
//! # Routing and events
//!
//! Route each action at `{Web URL path}/{actionName}`, and give the router
//! [`response::unknown_action`] as its fallback (before the layer), so that an action without
//! a route gets a NUGU answer rather than an empty `404`. NUGU's pages name no other path for
//! device events: an AudioPlayer event (`AudioPlayer.PlaybackFinished`...) arrives in the
//! `event` of an action's request, like a spoken one, and every request may carry an `event`
//! (NUGU's reference marks it mandatory). Tell a playback callback from a spoken request by the
//! event's type: [`ActionRequest::audio_player_event`], or the `Option<`[`AudioPlayerEvent`]`>`
//! extractor, is `Some` only for an AudioPlayer event.
//!
//! [`AudioPlayerEvent`]: request::AudioPlayerEvent
// Modules behind a feature that is off: their links point at the published docs.
#![cfg_attr(
    not(feature = "axum"),
    doc = "[`extract`]: https://docs.rs/nugu-proxy/latest/nugu_proxy/extract/"
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "[`testing`]: https://docs.rs/nugu-proxy/latest/nugu_proxy/testing/"
)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// `doc_auto_cfg` was merged into `doc_cfg` (Rust 1.92); docs.rs builds with `--cfg docsrs`.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod layer;
mod play;
pub mod rejection;
pub mod request;
pub mod response;
pub mod transport;

mod report;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "biz")]
pub mod biz;

#[cfg(feature = "axum")]
pub mod extract;

#[cfg(feature = "testing")]
pub mod testing;

pub use layer::{ApiKey, Authentication, PrivatePlayLayer, StandInUser};
pub use play::Play;
pub use request::{ActionRequest, EnrolledUser, PrivatePlay, ServiceType};
pub use response::ActionResponse;
