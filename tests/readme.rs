//! The README's quick start and its events section, verbatim (unformatted, to stay so): the
//! axum handlers, the router, and the tests a play developer writes with the testing kit. A
//! change here is a change there.

#[rustfmt::skip]
mod quick_start {
use axum::{routing::post, Router};
use nugu_proxy::response::unknown_action;
use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, EnrolledUser, PrivatePlayLayer};

async fn check_in(request: ActionRequest, user: Option<EnrolledUser>) -> ActionResponse {
    match user {
        Some(user) => ActionResponse::from_request(&request).output("userName", user.name().unwrap_or_default()),
        None => ActionResponse::from_request(&request).exception("NOT_ENROLLED"),
    }
}

fn app(api_key: ApiKey) -> Router {
    let layer = PrivatePlayLayer::new(api_key)
        .allow_play_builder_test_calls()        // Play Builder's test calls carry no API key
        .enrolled_users_only("NOT_ENROLLED");   // requests without an enrolled user never reach handlers
    Router::new()
        .route("/nugu/check_in", post(check_in))
        .fallback(unknown_action)               // an action without a route: a NUGU answer, not an empty 404
        .layer(layer)                           // last, so that it also guards the fallback
}

use nugu_proxy::testing::{NuguRequest, PlayUnderTest, TestUser, TEST_API_KEY};

#[tokio::test]
async fn checks_in_an_enrolled_user() {
    let play = PlayUnderTest::new(app(ApiKey::new(TEST_API_KEY).unwrap())).path_prefix("/nugu");
    let request = NuguRequest::action("check_in")
        .enrolled_user(TestUser::new("홍길동", "01012345678", "gildong@example.com"));
    let answer = play.call(request).await.nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["userName"].as_deref(), Some("홍길동"));

    let stranger = NuguRequest::action("check_in").without_enrolled_user();
    assert_eq!(play.call(stranger).await.nugu().result_code, "NOT_ENROLLED");
    let unknown = NuguRequest::action("check_out");
    assert_eq!(play.call(unknown).await.nugu().result_code, "UNKNOWN_ACTION");
    let malformed = NuguRequest::action("check_in").raw_body("{\"action\": ");
    assert_eq!(play.call(malformed).await.rejection().unwrap().error, "malformed_request");
}
}

#[rustfmt::skip]
mod events {
use axum::{routing::post, Router};
use nugu_proxy::testing::{NuguRequest, PlayUnderTest, TEST_API_KEY};
use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, PrivatePlayLayer};

use nugu_proxy::request::{AudioPlayerEvent, AudioPlayerEventKind};
use nugu_proxy::response::{AudioStream, Directive};

async fn chime(request: ActionRequest, event: Option<AudioPlayerEvent>) -> ActionResponse {
    let answer = ActionResponse::from_request(&request);
    match event.map(|event| event.kind()) {
        // Spoken: play the chime.
        None => answer.directive(Directive::audio_play(AudioStream::new("https://example.com/chime.mp3", "chime"))),
        // It played to its end: nothing follows.
        Some(AudioPlayerEventKind::PlaybackFinished) => answer.directive(Directive::audio_stop()),
        Some(_) => answer,
    }
}

#[tokio::test]
async fn plays_the_chime_then_stops() {
    let layer = PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap());
    let app = Router::new().route("/nugu/chime", post(chime)).layer(layer);
    let play = PlayUnderTest::new(app).path_prefix("/nugu");
    let spoken = play.call(NuguRequest::action("chime")).await.nugu();
    assert_eq!(spoken.directive_types(), ["AudioPlayer.Play"]);
    let finished = NuguRequest::action("chime").event("AudioPlayer.PlaybackFinished", Some("chime"), 2_000);
    assert_eq!(play.call(finished).await.nugu().directive_types(), ["AudioPlayer.Stop"]);
}
}

/// The README section `title`'s code blocks (but the one that serves, which needs a
/// certificate).
fn readme_blocks(title: &str) -> Vec<&'static str> {
    let readme = include_str!("../README.md");
    let start = readme.find(title).expect("the section");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    section
        .split("```rust,ignore\n")
        .skip(1)
        .map(|block| &block[..block.find("```").expect("a closed block")])
        .filter(|code| !code.contains("Server::builder"))
        .collect()
}

/// The README's quick start and events blocks are the code above, character for character.
#[test]
fn the_readme_shows_this_code() {
    let this = include_str!("readme.rs");
    for (title, count) in [("## Quick start (axum)", 2), ("## Events and routing", 1)] {
        let blocks = readme_blocks(title);
        assert_eq!(blocks.len(), count, "{title}");
        for code in blocks {
            assert!(
                this.contains(code),
                "tests/readme.rs lacks this README block:\n{code}"
            );
        }
    }
}
