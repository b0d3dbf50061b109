//! axum extractors for what [`PrivatePlayLayer`](crate::PrivatePlayLayer) puts into a request's
//! extensions (feature `axum`).
//!
//! A handler takes the parsed request and, for a Private Play, the enrolled user directly:
//!
//! | extractor | what | when it is absent |
//! |---|---|---|
//! | [`ActionRequest`] | the parsed action request | [`MissingPrivatePlayLayer`] (500) |
//! | [`Authentication`] | how the layer authenticated it | [`MissingPrivatePlayLayer`] (500) |
//! | `Option<`[`EnrolledUser`]`>` | the invited, enrolled user, if the request has one | [`MissingPrivatePlayLayer`] (500) |
//! | `Option<`[`PrivatePlay`]`>` | `profile.privatePlay`, if the request has one | [`MissingPrivatePlayLayer`] (500) |
//! | [`EnrolledUser`], [`PrivatePlay`] | the same, required | [`MissingProfile`] (500) when the request has none |
//! | `Option<`[`AudioPlayerEvent`]`>` | the AudioPlayer event of a playback callback; `None` for a spoken request | [`MissingPrivatePlayLayer`] (500) |
//! | `Option<`[`StandInUser`]`>` | the stand-in of a Play Builder test call ([`play_builder_stand_in_user`](crate::PrivatePlayLayer::play_builder_stand_in_user)) | [`MissingPrivatePlayLayer`] (500) |
//!
//! Without the layer in front of the handler nothing was checked or parsed, so every extractor
//! refuses with a 500 that names `PrivatePlayLayer`, instead of handing the handler an
//! unauthenticated body. Take `Option<EnrolledUser>` when requests without an enrolled user
//! reach the handler, or configure
//! [`enrolled_users_only`](crate::PrivatePlayLayer::enrolled_users_only) so that they never do.
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
//! NUGU sends an AudioPlayer event (`AudioPlayer.PlaybackFinished`...) to the action Play Builder
//! runs for it, like a spoken request: one handler may get both. `Option<AudioPlayerEvent>`
//! tells them apart (a spoken request carries an `event` too, of another type):
//!
//! ```
//! use nugu_proxy::request::{AudioPlayerEvent, AudioPlayerEventKind};
//! use nugu_proxy::response::{AudioStream, Directive};
//! use nugu_proxy::{ActionRequest, ActionResponse};
//!
//! async fn chime(request: ActionRequest, event: Option<AudioPlayerEvent>) -> ActionResponse {
//!     let answer = ActionResponse::from_request(&request);
//!     match event.map(|event| event.kind()) {
//!         // Spoken: play the chime.
//!         None => answer.directive(Directive::audio_play(AudioStream::new("https://example.com/chime.mp3", "chime-1"))),
//!         // It played to its end: nothing follows.
//!         Some(AudioPlayerEventKind::PlaybackFinished) => answer.directive(Directive::audio_stop()),
//!         Some(_) => answer,
//!     }
//! }
//! # let _ = axum::Router::<()>::new().route("/nugu/chime", axum::routing::post(chime));
//! ```

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;
use http::StatusCode;
use http_body_util::Full;

use crate::layer::Authentication;
use crate::rejection::error_response;
use crate::request::AudioPlayerEvent;
use crate::{ActionRequest, EnrolledUser, PrivatePlay, StandInUser};

/// One rejection type: a 500 about the type the handler asked for, with a JSON body, as the
/// layer's rejections (`crate::rejection`).
macro_rules! extractor_rejection {
    ($(#[$doc:meta])* $name:ident, $code:literal, |$wanted:ident| $message:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name {
            wanted: &'static str,
        }

        impl $name {
            /// The HTTP status this rejection answers with.
            pub const STATUS: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;
            /// The machine-readable code in the JSON body's `error` field.
            pub const CODE: &'static str = $code;

            /// The handler asked for `wanted` (a type name).
            pub fn new(wanted: &'static str) -> Self {
                Self { wanted }
            }

            /// The type the handler asked for.
            pub fn wanted(&self) -> &'static str {
                self.wanted
            }

            /// The HTTP response: [`Self::STATUS`] and a JSON body.
            pub fn into_response(self) -> http::Response<Full<Bytes>> {
                error_response(Self::STATUS, Self::CODE, &self.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $wanted = self.wanted;
                f.write_str(&$message)
            }
        }

        impl std::error::Error for $name {}

        crate::report::debug_as_report!($name);

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                $name::into_response(self).map(axum_core::body::Body::new)
            }
        }
    };
}

extractor_rejection!(
    /// 500: the handler asked for a value that only
    /// [`PrivatePlayLayer`](crate::PrivatePlayLayer) provides, and the request did not pass
    /// through one (the layer is missing from the router, or sits on another route).
    ///
    /// ```
    /// use nugu_proxy::extract::MissingPrivatePlayLayer;
    ///
    /// let rejection = MissingPrivatePlayLayer::new("EnrolledUser");
    /// assert_eq!(MissingPrivatePlayLayer::STATUS, 500);
    /// assert!(rejection.to_string().contains("PrivatePlayLayer"));
    /// ```
    MissingPrivatePlayLayer,
    "missing_private_play_layer",
    |wanted| format!(
        "the handler takes {wanted} but the request did not pass through PrivatePlayLayer: add \
         `.layer(PrivatePlayLayer::new(..))` to the router in front of this route"
    )
);

extractor_rejection!(
    /// 500: the handler requires an [`EnrolledUser`] (or a [`PrivatePlay`] profile) and the
    /// request has none: a Play Builder test call, a Biz-dedicated device, or a public play.
    ///
    /// Take `Option<EnrolledUser>` instead, or let the layer answer such requests with
    /// [`enrolled_users_only`](crate::PrivatePlayLayer::enrolled_users_only).
    ///
    /// ```
    /// use nugu_proxy::extract::MissingProfile;
    ///
    /// let rejection = MissingProfile::new("EnrolledUser");
    /// assert_eq!(MissingProfile::CODE, "missing_profile");
    /// assert!(rejection.to_string().contains("Option<EnrolledUser>"));
    /// ```
    MissingProfile,
    "missing_profile",
    |wanted| format!(
        "the handler requires {wanted} and this request has none: take Option<{wanted}>, or \
         configure PrivatePlayLayer::enrolled_users_only"
    )
);

/// Why a required [`EnrolledUser`] or [`PrivatePlay`] extractor refused.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileRejection {
    /// See [`MissingPrivatePlayLayer`].
    MissingPrivatePlayLayer(MissingPrivatePlayLayer),
    /// See [`MissingProfile`].
    MissingProfile(MissingProfile),
}

impl fmt::Display for ProfileRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileRejection::MissingPrivatePlayLayer(r) => r.fmt(f),
            ProfileRejection::MissingProfile(r) => r.fmt(f),
        }
    }
}

impl std::error::Error for ProfileRejection {}

crate::report::debug_as_report!(ProfileRejection);

impl IntoResponse for ProfileRejection {
    fn into_response(self) -> Response {
        match self {
            ProfileRejection::MissingPrivatePlayLayer(r) => IntoResponse::into_response(r),
            ProfileRejection::MissingProfile(r) => IntoResponse::into_response(r),
        }
    }
}

/// The value the layer inserted, or the rejection that names the layer. The layer always
/// inserts the [`ActionRequest`], so its presence tells whether the layer ran.
fn layer_value<T: Clone + Send + Sync + 'static>(
    parts: &Parts,
    wanted: &'static str,
) -> Result<Option<T>, MissingPrivatePlayLayer> {
    if parts.extensions.get::<ActionRequest>().is_none() {
        return Err(MissingPrivatePlayLayer::new(wanted));
    }
    Ok(parts.extensions.get::<T>().cloned())
}

/// Implements the extractors of one type the layer always inserts.
macro_rules! always_present {
    ($ty:ident) => {
        impl<S: Send + Sync> FromRequestParts<S> for $ty {
            type Rejection = MissingPrivatePlayLayer;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                layer_value(parts, stringify!($ty))?
                    .ok_or(MissingPrivatePlayLayer::new(stringify!($ty)))
            }
        }
    };
}

/// Implements the extractors of one profile type, which a request may lack.
macro_rules! profile_part {
    ($ty:ident) => {
        impl<S: Send + Sync> FromRequestParts<S> for $ty {
            type Rejection = ProfileRejection;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                layer_value(parts, stringify!($ty))
                    .map_err(ProfileRejection::MissingPrivatePlayLayer)?
                    .ok_or(ProfileRejection::MissingProfile(MissingProfile::new(
                        stringify!($ty),
                    )))
            }
        }

        impl<S: Send + Sync> OptionalFromRequestParts<S> for $ty {
            type Rejection = MissingPrivatePlayLayer;

            async fn from_request_parts(
                parts: &mut Parts,
                _: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                layer_value(parts, concat!("Option<", stringify!($ty), ">"))
            }
        }
    };
}

always_present!(ActionRequest);
always_present!(Authentication);
profile_part!(EnrolledUser);
profile_part!(PrivatePlay);

/// `None` for a spoken request, the typed event for a playback callback; an `event` that does
/// not parse is `None` too, never a refusal.
impl<S: Send + Sync> OptionalFromRequestParts<S> for AudioPlayerEvent {
    type Rejection = MissingPrivatePlayLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        let request: Option<ActionRequest> = layer_value(parts, "Option<AudioPlayerEvent>")?;
        Ok(request.and_then(|request| request.audio_player_event()))
    }
}

/// Only as an `Option`: most requests have no stand-in, and none of them is an error.
impl<S: Send + Sync> OptionalFromRequestParts<S> for StandInUser {
    type Rejection = MissingPrivatePlayLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        layer_value(parts, "Option<StandInUser>")
    }
}
