//! An attendance check-in Private Play, served over HTTPS only, as a plain tower service.
//!
//! ```sh
//! cargo run --example https_proxy
//! ```
//!
//! With no certificate given it makes a self-signed one for localhost, saves it in a new
//! private directory, prints its path, its SHA-256 fingerprint and a `curl` command that checks
//! a sample enrolled user in. Check-ins are kept in an SQLite file (`--db`), so a restart loses
//! none. The flags are listed in `examples/support/mod.rs`; `examples/axum_play.rs` is the same
//! play as an axum `Router`.
//!
//! Actions: `check_in` answers `resultCode: OK` with `output.userName` and
//! `output.checkInTime` (KST, first check-in of the day), or `NOT_ENROLLED` for a request
//! without an enrolled user. Any other action answers `UNKNOWN_ACTION`. `GET {prefix}/health`
//! answers `OK`.

mod support;

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use nugu_proxy::response::UNKNOWN_ACTION;
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlay};
use support::{Attendance, Setup};

#[tokio::main]
async fn main() -> ExitCode {
    support::main(
        "check-in play",
        |Setup {
             layer, attendance, ..
         }| {
            tower::ServiceBuilder::new()
                .layer(layer)
                .service_fn(move |req| handle(attendance.clone(), req))
        },
    )
    .await
}

async fn handle(
    attendance: Attendance,
    req: Request<Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let extensions = req.extensions();
    let Some(action) = extensions.get::<ActionRequest>() else {
        // Not an action request (the layer passes other methods through).
        let mut response = Response::new(Full::new(Bytes::from_static(b"not found")));
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        return Ok(response);
    };
    let response = match action.action_name() {
        "check_in" => match (
            extensions.get::<EnrolledUser>(),
            extensions.get::<PrivatePlay>(),
        ) {
            (Some(user), Some(play)) => match attendance.check_in(support::who(user, play)).await {
                Ok(time) => {
                    // No personal data in logs, not even masked.
                    tracing::info!("checked in");
                    ActionResponse::from_request(action)
                        .output("userName", user.name().unwrap_or_default())
                        .output("checkInTime", time)
                }
                Err(error) => {
                    tracing::error!(%error, "the check-in was not recorded");
                    ActionResponse::from_request(action).exception("CHECK_IN_FAILED")
                }
            },
            // `enrolled_users_only` answers these before the handler; kept for clarity.
            _ => ActionResponse::from_request(action).exception("NOT_ENROLLED"),
        },
        _ => ActionResponse::from_request(action).exception(UNKNOWN_ACTION),
    };
    Ok(response.into_http())
}
