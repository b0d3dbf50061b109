//! [`StandInUser`]: what a Play Builder test call carries in place of an enrolled user, when
//! the play asks for one.

use std::fmt;

/// The stand-in for an enrolled user on a Play Builder test call: inserted into the request's
/// extensions, next to
/// [`Authentication::PlayBuilderTestCall`](super::Authentication::PlayBuilderTestCall), by a
/// layer built with
/// [`play_builder_stand_in_user`](crate::PrivatePlayLayer::play_builder_stand_in_user).
///
/// A Play Builder test call is unauthenticated: anyone who can reach the server can send one.
/// So the stand-in is a type of its own, never an [`EnrolledUser`](crate::EnrolledUser) nor a
/// [`PrivatePlay`](crate::PrivatePlay): a handler that takes `Option<EnrolledUser>` gets `None`
/// for it, one that takes `EnrolledUser` is refused, and only a handler that asks for the
/// stand-in by name can serve it. It carries no personal data and no token, only a fixed name
/// ([`StandInUser::NAME`]). Answer it with sample values, as for a demonstration: never act on
/// it (no booking, no write, no Biz API call) and never answer it with real data, since whoever
/// sent it reads the answer.
///
/// ```
/// use axum::{routing::post, Router};
/// use nugu_proxy::testing::{call, NuguRequest, TEST_API_KEY};
/// use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, EnrolledUser, PrivatePlayLayer, StandInUser};
///
/// async fn check_in(
///     request: ActionRequest,
///     user: Option<EnrolledUser>,
///     stand_in: Option<StandInUser>,
/// ) -> ActionResponse {
///     let response = ActionResponse::from_request(&request);
///     match (user, stand_in) {
///         // A real, enrolled user: record the check-in here.
///         (Some(user), _) => response.output("userName", user.name().unwrap_or_default()),
///         // Anyone can send this: sample values, nothing recorded.
///         (None, Some(stand_in)) => response.output("userName", stand_in.name()),
///         (None, None) => response.exception("NOT_ENROLLED"),
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap())
///     .enrolled_users_only("NOT_ENROLLED")
///     .play_builder_stand_in_user();
/// let app: Router = Router::new().route("/check_in", post(check_in)).layer(layer);
///
/// let test_call = NuguRequest::action("check_in").play_builder_call();
/// let answer = call(app, test_call.to_http_request()).await.nugu();
/// assert_eq!(answer.result_code, "OK");
/// assert_eq!(answer.output["userName"].as_deref(), Some(StandInUser::NAME));
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StandInUser {
    // Only the layer makes one.
    _private: (),
}

impl StandInUser {
    /// The stand-in's name: fixed, so that it can never be a real person's, and plain to
    /// whoever hears it in Play Builder's test window.
    pub const NAME: &'static str = "Play Builder 테스트 사용자";

    pub(crate) const fn new() -> Self {
        Self { _private: () }
    }

    /// [`StandInUser::NAME`], for an answer that would speak the user's name.
    pub fn name(&self) -> &'static str {
        Self::NAME
    }
}

impl fmt::Debug for StandInUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StandInUser")
    }
}
