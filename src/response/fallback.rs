//! The answer to an action the play does not handle.

use super::ActionResponse;
use crate::request::ActionRequest;

/// The `resultCode` of [`unknown_action`]. Define it as an exception code in Play Builder to
/// give it a prompt of its own; otherwise NUGU plays the play's default failure prompt.
pub const UNKNOWN_ACTION: &str = "UNKNOWN_ACTION";

/// A NUGU answer for an action no route handles: `200` with `resultCode`
/// [`UNKNOWN_ACTION`] and every parameter echoed in `output`, instead of the router's empty
/// `404`, which NUGU cannot read. Use it as axum's fallback, before the layer (so the request
/// is checked and parsed like any other):
///
/// ```
/// use axum::{routing::post, Router};
/// use nugu_proxy::response::{unknown_action, UNKNOWN_ACTION};
/// use nugu_proxy::testing::{PlayUnderTest, NuguRequest, TEST_API_KEY};
/// use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, PrivatePlayLayer};
///
/// async fn book(request: ActionRequest) -> ActionResponse {
///     ActionResponse::from_request(&request)
/// }
///
/// let app: Router = Router::new()
///     .route("/nugu/book", post(book))
///     .fallback(unknown_action)
///     .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let play = PlayUnderTest::new(app).path_prefix("/nugu");
/// let answer = play.call(NuguRequest::action("cancel").parameter("room", "A")).await.nugu();
/// assert_eq!(answer.result_code, UNKNOWN_ACTION);
/// assert_eq!(answer.output["room"].as_deref(), Some("A"));
/// # });
/// ```
///
/// Without axum, answer `ActionResponse::from_request(&request).exception(UNKNOWN_ACTION)`.
pub async fn unknown_action(request: ActionRequest) -> ActionResponse {
    // The name passed the layer's check against the path. `debug`, not `warn`: a Play Builder
    // test call (no API key) can reach this, and unauthenticated events are never logged one
    // line each (SECURITY.md, "Logs cannot be flooded").
    tracing::debug!(action = request.action_name(), "no handler for this action");
    ActionResponse::from_request(&request).exception(UNKNOWN_ACTION)
}
