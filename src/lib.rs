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
//! - builds responses that keep NUGU's rules ([`ActionResponse`]);
//! - serves over HTTPS only (feature `server`), since NUGU refuses Private Plays on plain HTTP.
//!
//! # A handler
//!
//! The enrolled user is in the request's extensions:
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use nugu_proxy::{layer::ApiKey, transport, ActionRequest, ActionResponse, EnrolledUser, PrivatePlayLayer};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! async fn check_in(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
//!     let action = req.extensions().get::<ActionRequest>().expect("set by PrivatePlayLayer");
//!     let response = match req.extensions().get::<EnrolledUser>() {
//!         Some(user) => ActionResponse::from_request(action).output("userName", user.name()),
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
//! // What NUGU sends (the crate's HTTPS server adds the ConnectionInfo itself).
//! let body = r#"{"version":"2.0","action":{"actionName":"check_in","parameters":{}},"context":{},
//!   "profile":{"privatePlay":{"userKey":"u","deviceKey":"d",
//!   "enrolledUser":{"name":"홍길동","phoneNo":"01011112222","email":"gd@example.com"}}}}"#;
//! let mut request = Request::post("/nugu/check_in")
//!     .header("content-type", "application/json")
//!     .header("authorization", "token my-nugu-api-key")
//!     .body(Full::new(Bytes::from(body)))
//!     .unwrap();
//! # request.extensions_mut().insert(transport::ConnectionInfo::new(
//! #     "127.0.0.1:1".parse().unwrap(),
//! #     transport::Transport::Tls(transport::TlsInfo::new(transport::TlsVersion::Tls13, None, None)),
//! # ));
//! let response = play.oneshot(request).await.unwrap();
//! let json: serde_json::Value =
//!     serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
//! assert_eq!(json["output"]["userName"], "홍길동");
//! # }
//! ```
//!
//! With axum, add the layer to the router (`Router::new().route(...).layer(layer)`) and take
//! `Extension<EnrolledUser>` in the handler.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// `doc_auto_cfg` was merged into `doc_cfg` (Rust 1.92); docs.rs builds with `--cfg docsrs`.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod layer;
pub mod rejection;
pub mod request;
pub mod response;
pub mod transport;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "biz")]
pub mod biz;

#[cfg(feature = "axum")]
pub mod extract;

#[cfg(feature = "testing")]
pub mod testing;

pub use layer::{ApiKey, Authentication, PrivatePlayLayer};
pub use request::{ActionRequest, EnrolledUser, PrivatePlay, ServiceType};
pub use response::ActionResponse;
