//! The README's quick start, verbatim (unformatted, to stay so): the axum handler, its router,
//! and the test a play developer writes with the testing kit. A change here is a change there.

#[rustfmt::skip]
mod quick_start {
use axum::{routing::post, Router};
use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, EnrolledUser, Play, PrivatePlayLayer};

async fn check_in(request: ActionRequest, user: Option<EnrolledUser>) -> ActionResponse {
    match user {
        Some(user) => ActionResponse::from_request(&request).output("userName", user.name().unwrap_or_default()),
        None => ActionResponse::from_request(&request).exception("NOT_ENROLLED"),
    }
}

fn app(api_key: ApiKey) -> Router {
    let layer = PrivatePlayLayer::new(api_key)
        .play(Play::new().action("check_in", ["userName"])) // backend parameters: in every answer
        .allow_play_builder_test_calls()        // Play Builder's test calls carry no API key, no user
        .enrolled_users_only("NOT_ENROLLED");   // requests without an enrolled user never reach handlers
    Router::new().route("/nugu/check_in", post(check_in)).layer(layer)
}

use nugu_proxy::testing::{call, NuguRequest, TestUser, TEST_API_KEY};

#[tokio::test]
async fn checks_in_an_enrolled_user() {
    let app = app(ApiKey::new(TEST_API_KEY).unwrap());
    let request = NuguRequest::action("check_in")
        .path_prefix("/nugu")
        .enrolled_user(TestUser::new("홍길동", "01012345678", "gildong@example.com"));
    let answer = call(app.clone(), request.to_http_request()).await.nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["userName"].as_deref(), Some("홍길동"));

    let stranger = NuguRequest::action("check_in").path_prefix("/nugu").without_enrolled_user();
    let answer = call(app.clone(), stranger.to_http_request()).await.nugu();
    assert_eq!(answer.result_code, "NOT_ENROLLED");
    assert_eq!(answer.output.get("userName"), Some(&None)); // named, null: NUGU needs every backend parameter

    let play_builder = NuguRequest::action("check_in").path_prefix("/nugu").play_builder_call();
    assert_eq!(call(app, play_builder.to_http_request()).await.nugu().result_code, "NOT_ENROLLED");
}
}

/// The README's quick start blocks (but the one that serves, which needs a certificate) are the
/// code above, character for character.
#[test]
fn the_readme_shows_this_code() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Quick start (axum)")
        .expect("the quick start");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let this = include_str!("readme.rs");
    let mut blocks = 0;
    for block in section.split("```rust,ignore\n").skip(1) {
        let code = &block[..block.find("```").expect("a closed block")];
        if !code.contains("Server::builder") {
            assert!(
                this.contains(code),
                "tests/readme.rs lacks this README block:\n{code}"
            );
            blocks += 1;
        }
    }
    assert_eq!(blocks, 2, "the handler and its test");
}
