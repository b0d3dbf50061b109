//! The README's quick start and its events section, verbatim (unformatted, to stay so): the
//! axum handlers, the router, and the tests a play developer writes with the testing kit. A
//! change here is a change there.

#[rustfmt::skip]
mod quick_start {
use axum::{routing::post, Router};
use nugu_proxy::response::unknown_action;
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
    let answer = play.call(stranger).await.nugu();
    assert_eq!(answer.result_code, "NOT_ENROLLED");
    assert_eq!(answer.output.get("userName"), Some(&None)); // named, null: NUGU needs every backend parameter
    let play_builder = NuguRequest::action("check_in").play_builder_call();
    assert_eq!(play.call(play_builder).await.nugu().result_code, "NOT_ENROLLED");
    let unknown = NuguRequest::action("check_out");
    assert_eq!(play.call(unknown).await.nugu().result_code, "UNKNOWN_ACTION");
    let malformed = NuguRequest::action("check_in").raw_body("{\"action\": ");
    assert_eq!(play.call(malformed).await.rejection().unwrap().error, "malformed_request");
}

/// Compiled, not run: it needs a certificate and the key (`tests/example.rs` runs a real server).
#[allow(dead_code)]
mod serve {
use super::*;
use nugu_proxy::server::{Server, TlsConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init(); // startup, certificate reloads and refusals are logged with tracing
    // Read the key before binding, so that a missing variable stops the server with a message.
    let api_key = std::env::var("NUGU_API_KEY").map_err(|_| "set NUGU_API_KEY to the play's API key")?;
    let server = Server::builder()
        .tls(TlsConfig::from_pem_files("/etc/nugu/fullchain.pem", "/etc/nugu/privkey.pem")?)
        .public_url("https://proxy.example.com/nugu".parse()?)
        .bind("0.0.0.0:8443".parse()?)
        .await?;
    server.serve(app(ApiKey::new(api_key)?)).await;
    Ok(())
}
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

/// The README section `title`'s code blocks.
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
        .collect()
}

/// The README's quick start and events blocks are the code above, character for character.
#[test]
fn the_readme_shows_this_code() {
    let this = include_str!("readme.rs");
    for (title, count) in [("## Quick start (axum)", 3), ("## Events and routing", 1)] {
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

/// Issue 22 item 9: the crate's docs stand alone. The README pointed to a `SPEC.md` that is not
/// in the repository; NUGU's own pages are public.
#[test]
fn the_readme_refers_to_nothing_outside_the_repository() {
    let readme = include_str!("../README.md");
    for outside in ["SPEC.md", "../shared", "nugu-docs/"] {
        assert!(!readme.contains(outside), "the README refers to {outside}");
    }
    assert!(readme.contains("https://developers-doc.nugu.co.kr/"));
}

/// Issue 22 item 9: a numbered list that goes on after a line of text ("Then, for `POST`:\n4.")
/// is not a list in Markdown (only a list starting at 1 may interrupt a paragraph): rustdoc
/// rendered the layer's steps 4-7 as one paragraph. Every doc comment of `src/` leaves a blank
/// line before such a list.
#[test]
fn doc_lists_that_do_not_start_at_one_begin_a_paragraph() {
    fn doc(line: &str) -> Option<&str> {
        line.strip_prefix("///")
            .or_else(|| line.strip_prefix("//!"))
    }
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let docs: Vec<(usize, &str)> = text
                    .lines()
                    .enumerate()
                    .map(|(i, line)| (i, line.trim_start()))
                    .collect();
                for pair in docs.windows(2) {
                    let [(_, above), (i, line)] = [pair[0], pair[1]];
                    let (Some(above), Some(line)) = (doc(above), doc(line)) else {
                        continue;
                    };
                    let (above, line) = (above.trim(), line.trim());
                    let number = line.split_once(". ").map(|(n, _)| n).unwrap_or("");
                    let later_item = number.parse::<u32>().is_ok_and(|n| n > 1);
                    let above_is_text = !above.is_empty()
                        && !above.starts_with(|c: char| c.is_ascii_digit() || c == '*' || c == '-')
                        && !above.starts_with("```");
                    // A continuation line of an item is indented; text at the margin is a
                    // paragraph.
                    let above_indented = doc(pair[0].1).is_some_and(|l| l.starts_with("    "));
                    if later_item && above_is_text && !above_indented {
                        found.push(format!("{}:{}", path.display(), i + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "a list item glued to a paragraph: {found:?}"
    );
}
