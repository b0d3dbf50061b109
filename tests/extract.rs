//! The axum extractors: what a handler gets with the layer in front, and the typed 500 it gets
//! without (instead of axum's plain-text one). Requests come from the testing kit.

use axum::routing::post;
use axum::Router;
use nugu_proxy::testing::{call, NuguRequest, TestUser, TEST_API_KEY};
use nugu_proxy::{
    ActionRequest, ActionResponse, ApiKey, Authentication, EnrolledUser, PrivatePlay,
    PrivatePlayLayer,
};

/// The README's handler.
async fn check_in(request: ActionRequest, user: Option<EnrolledUser>) -> ActionResponse {
    match user {
        Some(user) => ActionResponse::from_request(&request)
            .output("userName", user.name().unwrap_or_default()),
        None => ActionResponse::from_request(&request).exception("NOT_ENROLLED"),
    }
}

/// Reports every extractor's value in `output`.
async fn report(
    request: ActionRequest,
    auth: Authentication,
    user: Option<EnrolledUser>,
    play: Option<PrivatePlay>,
) -> ActionResponse {
    ActionResponse::from_request(&request)
        .output("auth", format!("{auth:?}"))
        .output(
            "user",
            user.and_then(|u| u.name().map(str::to_owned))
                .unwrap_or_default(),
        )
        .output(
            "userKey",
            play.map(|p| p.user_key().to_owned()).unwrap_or_default(),
        )
}

async fn requires_user(request: ActionRequest, user: EnrolledUser) -> ActionResponse {
    ActionResponse::from_request(&request).output("userName", user.name().unwrap_or_default())
}

async fn requires_play(request: ActionRequest, play: PrivatePlay) -> ActionResponse {
    ActionResponse::from_request(&request).output("userKey", play.user_key())
}

fn routes() -> Router {
    Router::new()
        .route("/check_in", post(check_in))
        .route("/report", post(report))
        .route("/requires_user", post(requires_user))
        .route("/requires_play", post(requires_play))
}

fn app() -> Router {
    routes().layer(
        PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()).allow_play_builder_test_calls(),
    )
}

#[tokio::test]
async fn the_readme_handler_gets_the_request_and_the_user() {
    let user = TestUser::new("김철수", "01098765432", "cs@example.com");
    let request = NuguRequest::action("check_in")
        .parameter("place", "HQ")
        .enrolled_user(user);
    let answer = call(app(), request.to_http_request()).await.nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["userName"].as_deref(), Some("김철수"));
    assert_eq!(answer.output["place"].as_deref(), Some("HQ"));

    let request = NuguRequest::action("check_in").without_enrolled_user();
    let answer = call(app(), request.to_http_request()).await.nugu();
    assert_eq!(answer.result_code, "NOT_ENROLLED");
}

#[tokio::test]
async fn every_extractor_reads_what_the_layer_inserted() {
    let answer = call(app(), NuguRequest::action("report").to_http_request())
        .await
        .nugu();
    assert_eq!(answer.output["auth"].as_deref(), Some("ApiKey"));
    assert_eq!(answer.output["user"].as_deref(), Some("홍길동"));
    assert_eq!(answer.output["userKey"].as_deref(), Some("test-user-key"));

    // A Play Builder test call: let through, but its profile is not trusted.
    let request = NuguRequest::action("report").play_builder_call();
    let answer = call(app(), request.to_http_request()).await.nugu();
    assert_eq!(
        answer.output["auth"].as_deref(),
        Some("PlayBuilderTestCall")
    );
    assert_eq!(answer.output["user"].as_deref(), Some(""));
    assert_eq!(answer.output["userKey"].as_deref(), Some(""));
}

#[tokio::test]
async fn a_required_profile_that_is_absent_is_a_typed_500() {
    for (action, wanted) in [
        ("requires_user", "EnrolledUser"),
        ("requires_play", "PrivatePlay"),
    ] {
        let answer = call(app(), NuguRequest::action(action).to_http_request()).await;
        assert_eq!(answer.status, 200, "{action} with a profile");

        let request = NuguRequest::action(action).without_profile();
        let answer = call(app(), request.to_http_request()).await;
        assert_eq!(answer.status, 500);
        assert_eq!(answer.headers["content-type"], "application/json");
        let rejection = answer.rejection().unwrap();
        assert_eq!(rejection.error, "missing_profile");
        assert!(
            rejection.message.contains(&format!("Option<{wanted}>")),
            "{rejection:?}"
        );
    }
}

#[tokio::test]
async fn without_the_layer_every_extractor_answers_a_500_naming_it() {
    for action in ["check_in", "report", "requires_user", "requires_play"] {
        let answer = call(routes(), NuguRequest::action(action).to_http_request()).await;
        assert_eq!(answer.status, 500, "{action}");
        assert_eq!(answer.headers["content-type"], "application/json");
        let rejection = answer.rejection().unwrap();
        assert_eq!(rejection.error, "missing_private_play_layer", "{action}");
        assert!(
            rejection.message.contains("PrivatePlayLayer"),
            "{rejection:?}"
        );
    }
}

#[tokio::test]
async fn an_optional_extractor_still_refuses_without_the_layer() {
    // `Option<EnrolledUser>` alone must not read "no layer" as "no user".
    async fn only_user(user: Option<EnrolledUser>) -> String {
        user.and_then(|u| u.name().map(str::to_owned))
            .unwrap_or_default()
    }
    let bare = Router::new().route("/check_in", post(only_user));
    let answer = call(bare, NuguRequest::action("check_in").to_http_request()).await;
    assert_eq!(answer.status, 500);
    let message = answer.rejection().unwrap().message;
    assert!(message.contains("Option<EnrolledUser>"), "{message}");
    assert!(message.contains("PrivatePlayLayer"), "{message}");
}

/// Issue 21: an enrolled user whose `phoneNo` is `null` (or `email` absent) reaches the handler
/// as an enrolled user, through the layer with `enrolled_users_only`.
#[tokio::test]
async fn an_incomplete_enrolled_user_reaches_the_handler() {
    let app = enrolled_only_app();
    let request = NuguRequest::action("report").field(
        "/profile/privatePlay/enrolledUser/phoneNo",
        serde_json::Value::Null,
    );
    let answer = call(app.clone(), request.to_http_request()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let answer = answer.nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["user"].as_deref(), Some("홍길동"));
    assert_eq!(answer.output["userKey"].as_deref(), Some("test-user-key"));
}

/// Issue 21: a `privatePlay` without `userKey` is set aside, not refused: with
/// `enrolled_users_only` the layer answers the not-enrolled code, and the handler never runs.
#[tokio::test]
async fn a_private_play_without_user_key_is_not_enrolled() {
    let app = enrolled_only_app();
    let request = NuguRequest::action("report")
        .field("/profile/privatePlay/userKey", serde_json::Value::Null);
    let answer = call(app, request.to_http_request()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.nugu().result_code, "NOT_ENROLLED");

    // Without the policy the handler runs, with no profile.
    let request = NuguRequest::action("report")
        .field("/profile/privatePlay/deviceKey", serde_json::Value::Null);
    let answer = call(app_without_policy(), request.to_http_request())
        .await
        .nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["user"].as_deref(), Some(""));
    assert_eq!(answer.output["userKey"].as_deref(), Some(""));
}

fn app_without_policy() -> Router {
    routes().layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()))
}

fn enrolled_only_app() -> Router {
    routes().layer(
        PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap())
            .enrolled_users_only("NOT_ENROLLED"),
    )
}

/// Issue 21 item 6: a Biz-dedicated device sends `deviceUniqueId`, `userKey` and `deviceKey`
/// only. The handler gets the `PrivatePlay` and no `EnrolledUser`; `enrolled_users_only`
/// answers its not-enrolled code.
#[tokio::test]
async fn a_biz_dedicated_device_has_a_profile_and_no_enrolled_user() {
    let request = NuguRequest::action("report").biz_dedicated_device("NU200_SHARED1");
    let json = request.to_json();
    let sent = &json["profile"]["privatePlay"];
    assert_eq!(sent["deviceUniqueId"], "NU200_SHARED1");
    assert!(sent["userKey"].is_string() && sent["deviceKey"].is_string());
    assert!(sent.get("enrolledUser").is_none(), "{json}");

    let answer = call(app(), request.to_http_request()).await.nugu();
    assert_eq!(answer.output["user"].as_deref(), Some(""));
    assert_eq!(
        answer.output["userKey"],
        sent["userKey"].as_str().map(str::to_owned)
    );
    let answer = call(enrolled_only_app(), request.to_http_request()).await;
    assert_eq!(answer.nugu().result_code, "NOT_ENROLLED");

    let request = NuguRequest::action("requires_play").biz_dedicated_device("NU200_SHARED1");
    assert_eq!(call(app(), request.to_http_request()).await.status, 200);
    let request = NuguRequest::action("requires_user").biz_dedicated_device("NU200_SHARED1");
    let answer = call(app(), request.to_http_request()).await;
    assert_eq!(answer.rejection().unwrap().error, "missing_profile");
}

/// Issue 21 item 5, with the testing kit's own words: a user without `phoneNo`, or with `name`
/// null, is served as enrolled; the handler reads what is missing as `None`.
#[tokio::test]
async fn the_kit_builds_an_incomplete_enrolled_user() {
    let user = TestUser::sample()
        .without("phoneNo")
        .field("name", serde_json::Value::Null);
    let request = NuguRequest::action("check_in").enrolled_user(user);
    let parsed = request.to_action_request();
    let parsed = parsed.enrolled_user().unwrap();
    assert_eq!(
        (parsed.name(), parsed.phone_no(), parsed.email()),
        (None, None, Some("gildong@example.com"))
    );
    let answer = call(enrolled_only_app(), request.to_http_request())
        .await
        .nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["userName"].as_deref(), Some(""));
}
