//! Events, the testing kit's raw bodies and play-under-test helper, and the NUGU-shaped answer
//! to an unknown action (issue 22 items 1, 6, 7). Requests come from the testing kit and go
//! through a real axum router with the layer in front.

mod common;

use axum::routing::post;
use axum::Router;
use nugu_proxy::request::AudioPlayerEvent;
use nugu_proxy::response::{unknown_action, UNKNOWN_ACTION};
use nugu_proxy::testing::{call, NuguRequest, PlayUnderTest, TEST_API_KEY};
use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, PrivatePlayLayer};

/// Reports the event the handler sees: its kind, type and token, or `spoken` when none.
async fn chime(request: ActionRequest, event: Option<AudioPlayerEvent>) -> ActionResponse {
    let answer = ActionResponse::from_request(&request)
        .output("eventType", request.event_type().unwrap_or_default());
    match event {
        Some(event) => answer
            .output("kind", format!("{:?}", event.kind()))
            .output("playerEvent", event.event_type())
            .output("token", event.token().unwrap_or("-"))
            .output(
                "offset",
                event
                    .offset_in_milliseconds()
                    .map(|o| o.to_string())
                    .unwrap_or_default(),
            ),
        None => answer.output("kind", "spoken"),
    }
}

fn app() -> Router {
    Router::new()
        .route("/nugu/chime", post(chime))
        .fallback(unknown_action)
        .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()))
}

fn play() -> PlayUnderTest<Router> {
    PlayUnderTest::new(app()).path_prefix("/nugu")
}

#[tokio::test]
async fn the_kit_sends_an_event_with_a_spoken_request_as_nugu_does() {
    // NUGU's reference marks `event` mandatory: a spoken request has one too, of a type that
    // is no AudioPlayer event. Before: the kit sent no `event` at all.
    let json = NuguRequest::action("chime").to_json();
    let event_type = json["event"]["type"]
        .as_str()
        .expect("an event with a type");
    assert!(!event_type.starts_with("AudioPlayer."), "{event_type}");

    let answer = play().call(NuguRequest::action("chime")).await.nugu();
    assert_eq!(answer.output["kind"].as_deref(), Some("spoken"));
    assert_eq!(answer.output["eventType"].as_deref(), Some(event_type));

    // Real payloads have also been seen without `event`: still a spoken request.
    let answer = play()
        .call(NuguRequest::action("chime").without_event())
        .await
        .nugu();
    assert_eq!(answer.output["kind"].as_deref(), Some("spoken"));
    assert_eq!(answer.output["eventType"].as_deref(), Some(""));
}

#[tokio::test]
async fn a_playback_event_reaches_the_handler_typed() {
    let request =
        NuguRequest::action("chime").event("AudioPlayer.PlaybackFinished", Some("chime-1"), 3_000);
    let answer = play().call(request).await.nugu();
    assert_eq!(answer.output["kind"].as_deref(), Some("PlaybackFinished"));
    assert_eq!(answer.output["token"].as_deref(), Some("chime-1"));
    assert_eq!(answer.output["offset"].as_deref(), Some("3000"));
    assert_eq!(
        answer.output["eventType"].as_deref(),
        Some("AudioPlayer.PlaybackFinished")
    );
}

#[tokio::test]
async fn unknown_and_odd_events_are_kept_never_refused() {
    // A type NUGU may add: kept, with its name.
    let request = NuguRequest::action("chime").event("AudioPlayer.PlaybackRewound", Some("t"), 0);
    let answer = play().call(request).await.nugu();
    assert_eq!(answer.output["kind"].as_deref(), Some("Other"));
    assert_eq!(
        answer.output["playerEvent"].as_deref(),
        Some("AudioPlayer.PlaybackRewound")
    );

    // Odd fields: an offset written as a string, an error of the wrong shape, extra fields.
    let request = NuguRequest::action("chime")
        .event("AudioPlayer.PlaybackFailed", Some("t"), 0)
        .field("/event/offsetInMilliseconds", "1500")
        .field("/event/error", "decoder")
        .field("/event/extra", serde_json::json!({"a": [1, 2]}));
    let answer = play().call(request).await.nugu();
    assert_eq!(answer.output["kind"].as_deref(), Some("PlaybackFailed"));
    assert_eq!(answer.output["token"].as_deref(), Some("t"));
    assert_eq!(answer.output["offset"].as_deref(), Some("1500"));

    // An event without a type, or of the wrong shape: the request is still answered.
    for event in [
        serde_json::json!({"token": "t"}),
        serde_json::json!({"type": 7}),
    ] {
        let request = NuguRequest::action("chime").field("/event", event);
        let answer = play().call(request).await.nugu();
        assert_eq!(answer.output["kind"].as_deref(), Some("spoken"));
        assert_eq!(answer.output["eventType"].as_deref(), Some(""));
    }
}

#[tokio::test]
async fn the_kit_sends_a_raw_body() {
    let answer = play()
        .call(NuguRequest::action("chime").raw_body("{\"action\": "))
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.rejection().unwrap().error, "malformed_request");

    // The head stays what NUGU sends: a wrong key is still refused before the body.
    let request = NuguRequest::action("chime")
        .raw_body("not json")
        .api_key("wrong");
    assert_eq!(play().call(request).await.status, 401);
}

#[tokio::test]
async fn the_play_under_test_applies_its_prefix_and_key() {
    let app = app();
    let play = PlayUnderTest::new(app.clone())
        .path_prefix("/nugu/")
        .api_key("another-key");
    // Its key is not the layer's: refused, which shows the key was sent.
    assert_eq!(play.call(NuguRequest::action("chime")).await.status, 401);
    // A request's own key wins over the helper's.
    let own = NuguRequest::action("chime").api_key(TEST_API_KEY);
    assert_eq!(play.call(own).await.nugu().result_code, "OK");
    // The default: the test key, and the prefix.
    let answer = PlayUnderTest::new(app)
        .path_prefix("/nugu")
        .call(NuguRequest::action("chime"))
        .await;
    assert_eq!(answer.nugu().result_code, "OK");
}

#[tokio::test]
async fn an_unknown_action_gets_a_nugu_answer() {
    // Before: axum's empty 404, which NUGU cannot read.
    let request = NuguRequest::action("cancel_booking")
        .parameter("room", "A")
        .null_parameter("when");
    let answer = play().call(request).await;
    assert_eq!(answer.status, 200);
    let answer = answer.nugu();
    assert_eq!(answer.result_code, UNKNOWN_ACTION);
    assert_eq!(answer.output["room"].as_deref(), Some("A"));
    assert!(answer.output.contains_key("when"));
}

#[tokio::test]
async fn without_a_fallback_axum_answers_an_empty_404() {
    // What the fallback replaces: a router without one.
    let app = Router::new()
        .route("/nugu/chime", post(chime))
        .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()));
    let answer = call(
        app,
        NuguRequest::action("cancel_booking")
            .path_prefix("/nugu")
            .to_http_request(),
    )
    .await;
    assert_eq!((answer.status.as_u16(), answer.body.len()), (404, 0));
}

#[test]
fn the_play_under_test_keeps_its_key_out_of_debug() {
    let play = PlayUnderTest::new(())
        .path_prefix("/nugu")
        .api_key("secret-key-1234");
    let shown = format!("{play:?}");
    assert!(
        shown.contains("/nugu") && !shown.contains("secret-key-1234"),
        "{shown}"
    );
}

/// Over the crate's HTTPS server on 127.0.0.1, with a real TLS client: an unknown action is
/// answered in NUGU's shape, and a playback callback reaches the handler typed.
#[cfg(feature = "server")]
mod over_tls {
    use crate::common::https::{cert_for_localhost, h1_client, nugu_post};
    use crate::common::{read, start, API_KEY, PATIENCE};
    use axum::routing::post;
    use axum::Router;
    use nugu_proxy::response::{unknown_action, UNKNOWN_ACTION};
    use nugu_proxy::server::Server;
    use nugu_proxy::testing::NuguRequest;
    use nugu_proxy::{ApiKey, PrivatePlayLayer};

    #[tokio::test]
    async fn unknown_actions_and_events_over_https() {
        let app = Router::new()
            .route("/nugu/chime", post(super::chime))
            .fallback(unknown_action)
            .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()));
        let cert = cert_for_localhost();
        let server = start(Server::builder().tls(cert.tls()), app).await;
        let mut client = h1_client(server.addr, &cert.der).await;

        let body = NuguRequest::action("cancel")
            .parameter("room", "A")
            .to_body();
        let answer = tokio::time::timeout(
            PATIENCE,
            client.send_request(nugu_post("/nugu/cancel", body)),
        );
        let (status, _, json) = read(answer.await.unwrap().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(json["resultCode"], UNKNOWN_ACTION);
        assert_eq!(json["output"]["room"], "A");

        let body = NuguRequest::action("chime")
            .event("AudioPlayer.PlaybackStopped", Some("chime-1"), 1_200)
            .to_body();
        let answer = tokio::time::timeout(
            PATIENCE,
            client.send_request(nugu_post("/nugu/chime", body)),
        );
        let (status, _, json) = read(answer.await.unwrap().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(json["output"]["kind"], "PlaybackStopped");
        assert_eq!(json["output"]["offset"], "1200");

        drop(client);
        server.shut_down().await;
    }
}
