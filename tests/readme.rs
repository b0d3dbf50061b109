//! The README's quick start, verbatim (unformatted, to stay so): the axum handler, its router,
//! and the test a play developer writes with the testing kit. A change here is a change there.

#[rustfmt::skip]
mod quick_start {
use axum::{routing::post, Router};
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
    assert_eq!(call(app, stranger.to_http_request()).await.nugu().result_code, "NOT_ENROLLED");
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
