//! The attendance check-in Private Play of `examples/https_proxy.rs`, as an axum `Router` whose
//! handlers take what `PrivatePlayLayer` parsed, served by the crate's HTTPS server.
//!
//! ```sh
//! cargo run --example axum_play --features axum
//! ```
//!
//! It takes the same flags and prints the same `curl` command (`examples/support/mod.rs`).

mod support;

use std::process::ExitCode;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use nugu_proxy::response::unknown_action;
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlay};
use support::{Attendance, Setup};

#[tokio::main]
async fn main() -> ExitCode {
    support::main("axum check-in play", router).await
}

/// `POST {prefix}/check_in`, any other action `UNKNOWN_ACTION` (the crate's
/// `unknown_action`), all behind the layer.
fn router(setup: Setup) -> Router {
    let actions = Router::new()
        .route("/check_in", post(check_in))
        .route("/{action}", post(unknown_action))
        .with_state(setup.attendance);
    let play = match setup.path_prefix.as_str() {
        "" | "/" => actions,
        prefix => Router::new().nest(prefix, actions),
    };
    play.layer(setup.layer)
}

async fn check_in(
    State(attendance): State<Attendance>,
    request: ActionRequest,
    user: Option<EnrolledUser>,
    play: Option<PrivatePlay>,
) -> ActionResponse {
    // `enrolled_users_only` answers requests without a user before this handler.
    let (Some(user), Some(play)) = (user, play) else {
        return ActionResponse::from_request(&request).exception("NOT_ENROLLED");
    };
    match attendance.check_in(support::who(&user, &play)).await {
        Ok(time) => {
            // No personal data in logs, not even masked.
            tracing::info!("checked in");
            ActionResponse::from_request(&request)
                .output("userName", user.name().unwrap_or_default())
                .output("checkInTime", time)
        }
        Err(error) => {
            tracing::error!(%error, "the check-in was not recorded");
            ActionResponse::from_request(&request).exception("CHECK_IN_FAILED")
        }
    }
}
