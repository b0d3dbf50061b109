//! Announcements and account linking: the client against the emulator over real HTTP on
//! 127.0.0.1, with the results received by the crate's `CallbackService` behind axum.
#![cfg(feature = "biz-emulator")]

use std::time::Duration;

use axum::Router;
use nugu_proxy::biz::emulator::{DeviceState, Edition, Emulator, EmulatorError, PlayStatus};
use nugu_proxy::biz::{
    Announcement, AnnouncementResultCode, AuthRequest, BizClient, BizError, CallbackService,
    ConfirmedLink, DeviceResultCode, Display, DisplayType, ErrorCode, GroupAnnouncementResult,
    GroupRequest, InvitationReason, InvitationRequest, InvitationTarget, Invitee, LinkConfirmation,
    LinkConfirmations, LinkPolicy, LinkResultCode, PublisherToken, RetryPolicy, ServiceType,
    SharedDeviceAnnouncementResult, Tts, UserAnnouncementResult, UserApiToken,
};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

const TOKEN: &str = "publisher-token-for-announcements";
const PLAY: &str = "com.example.attendance";
const PLAY_OFF: &str = "com.example.retired";
const PLAY_FOREIGN: &str = "com.other.play";

/// An emulator whose results reach the receivers below, on free ports of 127.0.0.1.
async fn emulator(edition: Edition) -> Emulator {
    plays(
        Emulator::builder()
            .token(TOKEN)
            .edition(edition)
            .dangerous_allow_any_callback_port(),
    )
    .await
}

async fn plays(builder: nugu_proxy::biz::emulator::EmulatorBuilder) -> Emulator {
    let emulator = builder.start().await.unwrap();
    emulator.add_play(PLAY);
    emulator.set_play(PLAY_OFF, PlayStatus::NotInService);
    emulator.set_play(PLAY_FOREIGN, PlayStatus::OtherPublisher);
    emulator
}

/// A client whose callBacks may be plain http on 127.0.0.1 (the receivers below).
fn client_of(emulator: &Emulator) -> BizClient {
    emulator
        .client_builder()
        .dangerous_allow_http_callback_hosts(["127.0.0.1"])
        .build()
        .unwrap()
}

fn reason() -> InvitationReason {
    InvitationReason::new("출퇴근 체크인 알림").unwrap()
}

fn reminder() -> Announcement {
    Announcement::new(PLAY)
        .tts(
            Tts::new("오전 9시 체크인을 잊지 마세요")
                .speed(95)
                .pause1(500)
                .pause2(200),
        )
        .display(
            Display::new(DisplayType::ImageText2, "체크인", "알림", "9시까지 체크인")
                .footer("총무팀")
                .image("https://example.com/clock.png")
                .grammar_guide(["체크인 해줘"]),
        )
}

/// Serves `CallbackService<T>` on 127.0.0.1; answers its URL and what it receives.
async fn receiver<T: DeserializeOwned + Send + 'static>() -> (String, mpsc::UnboundedReceiver<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let service = CallbackService::new(move |value: T| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(value);
        }
    });
    let app = Router::new().route_service("/nugu/result/5f1e", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/nugu/result/5f1e"), rx)
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the callback arrives")
        .expect("the receiver runs")
}

/// Invites and enrols `email` as a SERVICE user with a token; answers the token.
async fn enrolled(emulator: &Emulator, client: &BizClient, email: &str) -> UserApiToken {
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Plays(vec![PLAY.into()]),
            vec![Invitee::new(email, "김철수", "01012345678")],
            reason(),
        ))
        .await
        .unwrap();
    linked(emulator, client, email).await
}

/// The invitee `email` accepts through account linking (NUGU makes no token: only a link gives
/// one), with the token `token-of-{email}` the publisher's page makes; answers it.
async fn linked(emulator: &Emulator, client: &BizClient, email: &str) -> UserApiToken {
    let (auth_url, _requests, _confirmations) =
        publisher_page(client.clone(), |email| Some(format!("token-of-{email}"))).await;
    emulator.set_auth_url(&auth_url);
    emulator.accept_and_link(email).await.unwrap();
    UserApiToken::new(format!("token-of-{email}"))
}

#[tokio::test]
async fn a_user_announcement_plays_on_connected_devices_and_the_result_reaches_the_callback() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    let token = enrolled(&emulator, &client, "kim@example.com").await;
    emulator
        .add_device("kim@example.com", "NU200_0001", DeviceState::Connected)
        .unwrap();
    emulator
        .add_device("kim@example.com", "NU200_0002", DeviceState::NotConnected)
        .unwrap();
    let (url, mut results) = receiver::<UserAnnouncementResult>().await;

    client
        .announce_to_user(&token, &reminder(), Some(&url))
        .await
        .unwrap();
    // The devices have played it by the time the API answered.
    assert_eq!(emulator.heard("NU200_0001"), [reminder()]);
    assert!(emulator.heard("NU200_0002").is_empty());

    let result = next(&mut results).await;
    assert_eq!(result.result_code, AnnouncementResultCode::SomeOk);
    let codes: Vec<_> = result
        .device_results
        .iter()
        .map(|d| d.code.clone())
        .collect();
    assert_eq!(
        codes,
        [DeviceResultCode::Ok, DeviceResultCode::NotConnected]
    );
    assert_eq!(result.email.unwrap().expose(), "kim@example.com");
    assert_eq!(result.name.unwrap().expose(), "김철수");
    assert!(result.id.is_some());

    // Without callBack nothing is posted, and the announcement is still played.
    client
        .announce_to_user(&token, &reminder(), None)
        .await
        .unwrap();
    assert_eq!(emulator.heard("NU200_0001").len(), 2);
}

#[tokio::test]
async fn every_user_result_code_and_device_code_is_reported() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    let (url, mut results) = receiver::<UserAnnouncementResult>().await;
    let states = [
        DeviceState::NotConnected,
        DeviceState::Timeout,
        DeviceState::ConnectError,
        DeviceState::NotSupported,
        DeviceState::Error,
    ];
    let failing = enrolled(&emulator, &client, "fail@example.com").await;
    for (i, state) in states.iter().enumerate() {
        emulator
            .add_device("fail@example.com", &format!("F{i}"), *state)
            .unwrap();
    }
    let ok = enrolled(&emulator, &client, "ok@example.com").await;
    emulator
        .add_device("ok@example.com", "OK1", DeviceState::Connected)
        .unwrap();
    let no_device = enrolled(&emulator, &client, "none@example.com").await;
    let refused = enrolled(&emulator, &client, "no@example.com").await;
    emulator
        .add_device("no@example.com", "NO1", DeviceState::Connected)
        .unwrap();
    emulator.set_api_agreement("no@example.com", false).unwrap();

    let mut seen = Vec::new();
    for token in [&failing, &ok, &no_device, &refused] {
        client
            .announce_to_user(token, &reminder(), Some(&url))
            .await
            .unwrap();
        let result = next(&mut results).await;
        seen.push((result.result_code, result.device_results.len()));
        if seen.len() == 1 {
            let codes: Vec<_> = result.device_results.into_iter().map(|d| d.code).collect();
            assert_eq!(
                codes,
                [
                    DeviceResultCode::NotConnected,
                    DeviceResultCode::Timeout,
                    DeviceResultCode::ConnectError,
                    DeviceResultCode::NotSupported,
                    DeviceResultCode::Error,
                ]
            );
        }
    }
    assert_eq!(
        seen,
        [
            (AnnouncementResultCode::Fail, 5),
            (AnnouncementResultCode::Ok, 1),
            (AnnouncementResultCode::NoDevice, 0),
            (AnnouncementResultCode::NotAgree, 0),
        ]
    );
    assert!(
        emulator.heard("NO1").is_empty(),
        "a user who refused hears nothing"
    );
}

#[tokio::test]
async fn unknown_result_codes_are_kept() {
    let result: UserAnnouncementResult = serde_json::from_str(
        r#"{"id": "U1", "resultCode": "RATE_LIMITED", "deviceResults": [{"code": "ASLEEP"}, {"code": "OK"}]}"#,
    )
    .unwrap();
    assert_eq!(
        result.result_code,
        AnnouncementResultCode::Other("RATE_LIMITED".into())
    );
    assert_eq!(
        result.device_results[0].code,
        DeviceResultCode::Other("ASLEEP".into())
    );
    let confirmation: LinkConfirmation =
        serde_json::from_str(r#"{"userApiToken": "t", "resultCode": "EXPIRED"}"#).unwrap();
    assert_eq!(
        confirmation.result_code,
        LinkResultCode::Other("EXPIRED".into())
    );
}

#[tokio::test]
async fn a_group_announcement_reports_each_user() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    let group = client
        .create_group(&GroupRequest::new("Front desk").play_service_ids([PLAY]))
        .await
        .unwrap();
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Group(group.id.clone()),
            vec![
                Invitee::new("a@example.com", "A", "01011112222"),
                Invitee::new("b@example.com", "B", "01033334444"),
            ],
            reason(),
        ))
        .await
        .unwrap();
    linked(&emulator, &client, "a@example.com").await;
    linked(&emulator, &client, "b@example.com").await;
    emulator
        .add_device("a@example.com", "A1", DeviceState::Connected)
        .unwrap();
    emulator.set_api_agreement("b@example.com", false).unwrap();
    let (url, mut results) = receiver::<GroupAnnouncementResult>().await;

    let group_token = group.token.unwrap();
    client
        .announce_to_group(&group_token, &reminder(), Some(&url))
        .await
        .unwrap();
    let result = next(&mut results).await;
    let users: Vec<_> = result
        .users
        .iter()
        .map(|u| (u.email.as_ref().unwrap().expose(), u.result_code.clone()))
        .collect();
    assert_eq!(
        users,
        [
            ("a@example.com", AnnouncementResultCode::Ok),
            ("b@example.com", AnnouncementResultCode::NotAgree),
        ]
    );
    assert_eq!(emulator.heard("A1").len(), 1);

    let unknown = nugu_proxy::biz::Sensitive::from("no-such-group-token");
    assert!(matches!(
        client.announce_to_group(&unknown, &reminder(), None).await,
        Err(BizError::NotFound)
    ));
}

#[tokio::test]
async fn shared_device_groups_are_listed_and_announced_to() {
    let emulator = emulator(Edition::Trial).await;
    let client = client_of(&emulator);
    let token = emulator.add_shared_device_group(
        "Lobby",
        &[
            ("LOBBY-1", DeviceState::Connected),
            ("LOBBY-2", DeviceState::Timeout),
        ],
    );
    let groups = client.shared_device_groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name.as_deref(), Some("Lobby"));
    assert_eq!(groups[0].token, token);
    let names: Vec<_> = groups[0]
        .devices
        .iter()
        .map(|d| d.unique_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["LOBBY-1", "LOBBY-2"]);
    assert!(groups[0].devices[0].token.is_some());

    let (url, mut results) = receiver::<SharedDeviceAnnouncementResult>().await;
    let text_only = Announcement::new(PLAY).tts(Tts::new("로비 점검 안내"));
    client
        .announce_to_shared_device_group(&token, &text_only, Some(&url))
        .await
        .unwrap();
    let result = next(&mut results).await;
    let devices: Vec<_> = result
        .devices
        .iter()
        .map(|d| (d.unique_name.as_deref().unwrap(), d.result_code.clone()))
        .collect();
    assert_eq!(
        devices,
        [
            ("LOBBY-1", DeviceResultCode::Ok),
            ("LOBBY-2", DeviceResultCode::Timeout),
        ]
    );
    assert_eq!(
        result.devices[0].token.as_ref(),
        groups[0].devices[0].token.as_ref()
    );
    assert_eq!(emulator.heard("LOBBY-1"), [text_only]);
    assert!(emulator.heard("LOBBY-2").is_empty());
}

/// Each broken rule, the code the client answers before sending, and that the emulator answers
/// the same code when the client does not check.
#[tokio::test]
async fn every_announcement_error_code_is_caught_before_sending_and_answered_by_the_emulator() {
    let emulator = emulator(Edition::Full).await;
    let checked = client_of(&emulator);
    let token = enrolled(&emulator, &checked, "kim@example.com").await;
    let unchecked = emulator
        .client_builder()
        .validate_before_sending(false)
        .build()
        .unwrap();
    let text = || Tts::new("안내");
    let screen = || Display::new(DisplayType::FullText1, "t", "h", "b");
    let cases: Vec<(Announcement, ErrorCode, &str)> = vec![
        (
            Announcement::new(" ").tts(text()),
            ErrorCode::V1ann002,
            "playServiceId",
        ),
        (Announcement::new(PLAY), ErrorCode::V1ann101, "tts"),
        (
            Announcement::new(PLAY).tts(Tts::new("")),
            ErrorCode::V1ann102,
            "tts.text",
        ),
        (
            Announcement::new(PLAY).tts(text().speed(80)),
            ErrorCode::V1ann103,
            "tts.speed",
        ),
        (
            Announcement::new(PLAY).tts(text().speed(125)),
            ErrorCode::V1ann103,
            "tts.speed",
        ),
        (
            Announcement::new(PLAY).tts(text().speed(97)),
            ErrorCode::V1ann103,
            "tts.speed",
        ),
        (
            Announcement::new(PLAY).tts(text().pause1(200)),
            ErrorCode::V1ann104,
            "tts.pause1",
        ),
        (
            Announcement::new(PLAY).tts(text().pause1(650)),
            ErrorCode::V1ann104,
            "tts.pause1",
        ),
        (
            Announcement::new(PLAY).tts(text().pause2(600)),
            ErrorCode::V1ann105,
            "tts.pause2",
        ),
        (
            Announcement::new(PLAY).tts(text().pause2(150)),
            ErrorCode::V1ann105,
            "tts.pause2",
        ),
        (
            Announcement::new(PLAY).display(Display::new(
                DisplayType::Other("Carousel".into()),
                "t",
                "h",
                "b",
            )),
            ErrorCode::V1ann201,
            "display.type",
        ),
        (
            Announcement::new(PLAY).display(Display::new(DisplayType::FullText1, "", "h", "b")),
            ErrorCode::V1ann202,
            "display.title",
        ),
        (
            Announcement::new(PLAY).display(Display::new(DisplayType::FullText1, "t", " ", "b")),
            ErrorCode::V1ann203,
            "display.header",
        ),
        (
            Announcement::new(PLAY).display(Display::new(DisplayType::FullText1, "t", "h", "")),
            ErrorCode::V1ann204,
            "display.body",
        ),
    ];
    for (announcement, code, field) in cases {
        match checked.announce_to_user(&token, &announcement, None).await {
            Err(BizError::Invalid { code: c, field: f }) => {
                assert_eq!((&c, f.as_str()), (&code, field), "{announcement:?}")
            }
            other => panic!("{announcement:?}: expected {code} before sending, got {other:?}"),
        }
        match unchecked
            .announce_to_user(&token, &announcement, None)
            .await
        {
            Err(BizError::Api(c)) => assert_eq!(c, code, "{announcement:?}"),
            other => panic!("{announcement:?}: expected the emulator's {code}, got {other:?}"),
        }
    }
    // The edges of each range pass; a screen alone is enough.
    for tts in [
        text().speed(85).pause1(300).pause2(100),
        text().speed(120).pause1(900).pause2(500),
    ] {
        checked
            .announce_to_user(&token, &Announcement::new(PLAY).tts(tts), None)
            .await
            .unwrap();
    }
    checked
        .announce_to_user(&token, &Announcement::new(PLAY).display(screen()), None)
        .await
        .unwrap();

    // V1ANN301: a play the API does not allow (only the API knows).
    for play in [PLAY_OFF, PLAY_FOREIGN, "com.unknown.play"] {
        let err = checked
            .announce_to_user(&token, &Announcement::new(play).tts(text()), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::V1ann301), "{play}");
    }

    // V1ANN001: a body that does not parse; the numbers may come as strings or numbers.
    let url = format!(
        "{}/api/v2/enrolledUser/user/{}/announcement",
        emulator.base_url(),
        token.expose()
    );
    let http = reqwest::Client::new();
    for (body, expected) in [
        ("{not json", Some("V1ANN001")),
        ("[1, 2]", Some("V1ANN001")),
        (
            r#"{"playServiceId": "com.example.attendance", "tts": {"text": "a", "speed": "fast"}}"#,
            Some("V1ANN103"),
        ),
        (
            r#"{"playServiceId": "com.example.attendance", "tts": {"text": "a", "speed": 90, "pause1": "700"}}"#,
            None,
        ),
        (
            r#"{"playServiceId": "com.example.attendance", "display": {"type": "imageText2", "title": "t", "header": "h", "body": "b"}}"#,
            None,
        ),
    ] {
        let response = http
            .post(&url)
            .header("Publisher-Token", TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        match expected {
            Some(code) => {
                assert_eq!(response.status(), 400, "{body}");
                let answer: serde_json::Value = response.json().await.unwrap();
                assert_eq!(answer, serde_json::json!({ "errorCode": code }), "{body}");
            }
            None => assert_eq!(response.status(), 200, "{body}"),
        }
    }

    // 403: a wrong publisher token; 404: no user with this token.
    let stranger = BizClient::builder(PublisherToken::new("wrong"))
        .base_url(emulator.base_url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(matches!(
        stranger.announce_to_user(&token, &reminder(), None).await,
        Err(BizError::Forbidden)
    ));
    assert!(matches!(
        stranger.shared_device_groups().await,
        Err(BizError::Forbidden)
    ));
    assert!(matches!(
        checked
            .announce_to_user(&UserApiToken::new("nobody"), &reminder(), None)
            .await,
        Err(BizError::NotFound)
    ));
    assert!(matches!(
        checked
            .announce_to_shared_device_group(&"nothing".into(), &reminder(), None)
            .await,
        Err(BizError::NotFound)
    ));
}

#[tokio::test]
async fn a_callback_must_be_https_on_the_ports_the_api_calls() {
    let emulator = emulator(Edition::Full).await;
    let strict = emulator.client_builder().build().unwrap();
    let token = enrolled(&emulator, &strict, "kim@example.com").await;
    for (callback, reason) in [
        ("http://example.com/result", "not https"),
        (
            "https://example.com:8443/result",
            "the API calls back on ports 80 and 443 only",
        ),
        (
            "https://user:secret@example.com/result",
            "credentials in the URL",
        ),
        ("/relative", "not an absolute URL"),
        ("http://127.0.0.1:9/result", "not https"),
    ] {
        match strict
            .announce_to_user(&token, &reminder(), Some(callback))
            .await
        {
            Err(BizError::Unsendable {
                field: "callBack",
                reason: r,
            }) => {
                assert_eq!(r, reason, "{callback}")
            }
            other => panic!("{callback}: expected a refusal before sending, got {other:?}"),
        }
    }
    assert_eq!(emulator.requests_received(), 1, "only the invite");
}

#[tokio::test]
async fn tokens_never_show_in_errors_or_debug() {
    // Nothing listens there: the transport error must not carry the URL, whose path holds the
    // user's token.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = BizClient::builder(PublisherToken::new(TOKEN))
        .base_url(format!("http://{addr}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let token = UserApiToken::new("user-api-token-SECRET-1234");
    let err = client
        .announce_to_user(&token, &reminder(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, BizError::Transport(_)), "{err:?}");
    let group = nugu_proxy::biz::Sensitive::from("group-token-SECRET-5678");
    let err2 = client
        .announce_to_group(&group, &reminder(), None)
        .await
        .unwrap_err();
    let confirmation = LinkConfirmation {
        user_api_token: token.clone(),
        result_code: LinkResultCode::Ok,
    };
    let shown = format!(
        "{err} {err:?} {err2} {err2:?} {token:?} {confirmation:?} {:?}",
        std::error::Error::source(&err)
    );
    for secret in [
        "user-api-token-SECRET-1234",
        "group-token-SECRET-5678",
        TOKEN,
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

#[tokio::test]
async fn the_user_detail_follows_the_table_for_play_and_service_users() {
    let trial = emulator(Edition::Trial).await;
    let client = client_of(&trial);
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Plays(vec![PLAY.into()]),
            vec![Invitee::new("p@example.com", "P", "01011112222")],
            reason(),
        ))
        .await
        .unwrap();
    let id = trial.accept_invitation("p@example.com").unwrap();
    let play_user = client.user(&id).await.unwrap();
    assert_eq!(play_user.service_type, Some(ServiceType::Play));
    assert_eq!(play_user.token, None);
    assert_eq!(play_user.service_api_agree_yn, Some(false));
    assert_eq!(play_user.service_api_allowed_device_count, Some(0));
    assert_eq!(
        play_user.plays[0].token, None,
        "PLAY: plays[].token is null"
    );
    assert_eq!(play_user.plays[0].api_agree_yn, Some(false));
    assert_eq!(play_user.plays[0].api_allowed_device_count, Some(0));
    let listed = client
        .list_users(nugu_proxy::biz::Page::first())
        .await
        .unwrap();
    assert_eq!(
        listed.users[0].api_agree_type,
        Some(nugu_proxy::biz::ApiAgreeType::None)
    );

    let full = emulator(Edition::Full).await;
    let client = client_of(&full);
    let token = enrolled(&full, &client, "s@example.com").await;
    full.add_device("s@example.com", "S1", DeviceState::Connected)
        .unwrap();
    let id = client
        .list_users(nugu_proxy::biz::Page::first())
        .await
        .unwrap()
        .users[0]
        .id
        .clone();
    let service_user = client.user(&id).await.unwrap();
    assert_eq!(service_user.service_api_agree_yn, Some(true));
    assert_eq!(service_user.service_api_allowed_device_count, Some(1));
    let play = &service_user.plays[0];
    assert_eq!(play.token.as_ref().unwrap().expose(), token.expose());
    assert_eq!(play.api_agree_yn, Some(true));
    assert_eq!(play.api_allowed_device_count, Some(1));
    assert_eq!(
        play.accepted_date_time,
        service_user.service_accepted_date_time
    );
    let listed = client
        .list_users(nugu_proxy::biz::Page::first())
        .await
        .unwrap();
    assert_eq!(
        listed.users[0].api_agree_type,
        Some(nugu_proxy::biz::ApiAgreeType::All)
    );
    assert_eq!(
        listed.users[0].auth_type,
        Some(nugu_proxy::biz::AuthType::All)
    );

    // Refusing Biz API messages shows the same in detail and list.
    full.set_api_agreement("s@example.com", false).unwrap();
    let detail = client.user(&id).await.unwrap();
    let listed = client
        .list_users(nugu_proxy::biz::Page::first())
        .await
        .unwrap();
    assert_eq!(detail.service_api_agree_yn, Some(false));
    assert_eq!(
        listed.users[0].api_agree_type,
        Some(nugu_proxy::biz::ApiAgreeType::None)
    );
}

/// A linked (SERVICE) user moves groups at once, and their requests carry the token.
#[tokio::test]
async fn full_edition_users_move_at_once_and_carry_a_token_to_nugu() {
    const PLAY2: &str = "com.example.stock";
    let emulator = emulator(Edition::Full).await;
    emulator.add_play(PLAY2);
    let client = client_of(&emulator);
    let group = client
        .create_group(&GroupRequest::new("Stores").play_service_ids([PLAY2]))
        .await
        .unwrap();
    let token = enrolled(&emulator, &client, "user1@example.com").await;
    let id = client
        .list_users(nugu_proxy::biz::Page::first())
        .await
        .unwrap()
        .users[0]
        .id
        .clone();
    let detail = client.user(&id).await.unwrap();
    assert_eq!(detail.service_type, Some(ServiceType::Service));
    assert_eq!(detail.service_agree_yn, Some(true));
    assert_eq!(detail.token.unwrap().expose(), token.expose());
    client
        .update_user(
            &id,
            &nugu_proxy::biz::UserUpdate::new("사용자1").move_to(group.id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(client.user(&id).await.unwrap().group.unwrap().id, group.id);
    let profile = emulator
        .private_play_profile("user1@example.com", PLAY2, "NU200_9")
        .unwrap();
    assert_eq!(profile["enrolledUser"]["userToken"], token.expose());
    assert_eq!(profile["enrolledUser"]["serviceType"], "SERVICE");
    assert_eq!(profile["deviceUniqueId"], "NU200_9");
    assert!(profile["userKey"].as_str().unwrap().starts_with("user.0."));
    assert!(profile["deviceKey"]
        .as_str()
        .unwrap()
        .starts_with("device.0."));
    let typed = emulator
        .private_play("user1@example.com", PLAY2, "NU200_9")
        .unwrap();
    let user = typed.enrolled_user().unwrap();
    assert_eq!(
        (user.email(), user.phone_no()),
        (Some("user1@example.com"), Some("01012345678"))
    );
    assert_eq!(user.service_type(), Some(&ServiceType::Service));
}

// -- account linking ----------------------------------------------------------------------------

/// The publisher's authentication page over plain http on 127.0.0.1: it reads the request with
/// a `LinkPolicy`, "logs the user in", makes a token with `make_token(email)` (or none, for a
/// user who leaves), and completes the link server to server with a one-use `confirmUrl`,
/// whose confirmations it answers with. `accept_and_link`'s request carries no session: the
/// stand-in login signs in the invitee (`tests/biz_link.rs` refuses anyone else).
async fn publisher_page(
    client: BizClient,
    make_token: fn(&str) -> Option<String>,
) -> (
    String,
    mpsc::UnboundedReceiver<AuthRequest>,
    mpsc::UnboundedReceiver<LinkConfirmation>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let confirmations = LinkConfirmations::builder(&format!("http://{addr}/nugu/confirm/"))
        .dangerous_allow_http()
        .build()
        .unwrap();
    let policy =
        LinkPolicy::new(["nugu.example"]).dangerous_allow_http_callback_hosts(["127.0.0.1"]);
    let page = {
        let confirmations = confirmations.clone();
        move |uri: http::Uri| {
            let (policy, client, confirmations, tx) = (
                policy.clone(),
                client.clone(),
                confirmations.clone(),
                tx.clone(),
            );
            async move {
                let auth = match policy.parse_uri(&uri) {
                    Ok(auth) => auth,
                    Err(err) => return (err.status(), err.to_string()),
                };
                let _ = tx.send(auth.clone());
                let signed_in = auth.email().expose().to_owned();
                let link = match auth.for_signed_in_user(&signed_in) {
                    Ok(link) => link,
                    Err(err) => return (err.status(), err.to_string()),
                };
                let Some(token) = make_token(&signed_in) else {
                    return (http::StatusCode::OK, "the user left".to_owned());
                };
                let token = UserApiToken::new(token);
                let confirm_url = match confirmations.issue(&link, &token) {
                    Ok(url) => url,
                    Err(err) => return (err.status(), err.to_string()),
                };
                match client
                    .complete_link(&link, &token, Some(&confirm_url))
                    .await
                {
                    Ok(()) => (http::StatusCode::OK, "linked".to_owned()),
                    Err(err) => (http::StatusCode::BAD_GATEWAY, err.to_string()),
                }
            }
        }
    };
    let (confirmed, confirmed_rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/nugu/auth", axum::routing::get(page))
        .route_service(
            "/nugu/confirm/{nonce}",
            confirmations.service(move |c: ConfirmedLink| {
                let _ = confirmed.send(c.confirmation);
                async {}
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/nugu/auth"), rx, confirmed_rx)
}

async fn invite(client: &BizClient, email: &str) {
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Plays(vec![PLAY.into()]),
            vec![Invitee::new(email, "이영희", "01087654321")],
            reason(),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn account_linking_enrols_a_service_user_with_the_publishers_token() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    let (auth_url, mut requests, mut confirmations) = publisher_page(client.clone(), |email| {
        Some(match email {
            "lee@example.com" | "park@example.com" => "token-of-lee".to_owned(),
            other => format!("token-of-{other}"),
        })
    })
    .await;
    emulator.set_auth_url(&auth_url);

    invite(&client, "lee@example.com").await;
    let id = emulator.accept_and_link("lee@example.com").await.unwrap();
    let auth = requests.recv().await.unwrap();
    assert_eq!(auth.email().expose(), "lee@example.com");
    assert!(!auth.status().expose().is_empty());
    let confirmation = next(&mut confirmations).await;
    assert_eq!(confirmation.result_code, LinkResultCode::Ok);
    assert_eq!(confirmation.user_api_token.expose(), "token-of-lee");

    // The user's requests now carry the publisher's token, and announcements reach them by it.
    let play = emulator
        .private_play("lee@example.com", PLAY, "NU200_7")
        .unwrap();
    let user = play.enrolled_user().unwrap();
    assert_eq!(user.user_token(), Some("token-of-lee"));
    assert_eq!(user.service_type(), Some(&ServiceType::Service));
    let detail = client.user(&id).await.unwrap();
    assert_eq!(detail.token.unwrap().expose(), "token-of-lee");
    emulator
        .add_device("lee@example.com", "NU200_7", DeviceState::Connected)
        .unwrap();
    client
        .announce_to_user(&UserApiToken::new("token-of-lee"), &reminder(), None)
        .await
        .unwrap();
    assert_eq!(emulator.heard("NU200_7").len(), 1);

    // The same token for another email is a CONFLICT: not enrolled, confirmed as such.
    invite(&client, "park@example.com").await;
    assert_eq!(
        emulator.accept_and_link("park@example.com").await,
        Err(EmulatorError::TokenConflict)
    );
    let confirmation = next(&mut confirmations).await;
    assert_eq!(confirmation.result_code, LinkResultCode::Conflict);
    assert_eq!(
        emulator
            .private_play_profile("park@example.com", PLAY, "d")
            .unwrap_err(),
        EmulatorError::NotEnrolled
    );
    // A fresh token of their own links them.
    assert_eq!(
        client.invitations().await.unwrap().len(),
        1,
        "still invited"
    );
}

#[tokio::test]
async fn an_abandoned_link_enrols_no_one_and_keeps_no_token() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    let (auth_url, _requests, mut confirmations) = publisher_page(client.clone(), |_| None).await;
    emulator.set_auth_url(&auth_url);
    invite(&client, "lee@example.com").await;
    assert_eq!(
        emulator.accept_and_link("lee@example.com").await,
        Err(EmulatorError::LinkAbandoned)
    );
    assert_eq!(
        emulator
            .private_play_profile("lee@example.com", PLAY, "d")
            .unwrap_err(),
        EmulatorError::NotEnrolled
    );
    assert_eq!(client.invitations().await.unwrap().len(), 1);
    assert!(confirmations.try_recv().is_err(), "nothing to confirm");

    // Linking needs the full edition and an authentication URL; an unknown status is 404.
    let trial = emulator_without_auth_url().await;
    assert_eq!(
        trial.accept_and_link("x@example.com").await,
        Err(EmulatorError::LinkUnavailable)
    );
    let forged = reqwest::Client::new()
        .post(format!(
            "{}/emulator/link/callback?status=forged&userApiToken=t",
            emulator.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);
}

async fn emulator_without_auth_url() -> Emulator {
    emulator(Edition::Trial).await
}

#[tokio::test]
async fn the_confirmation_service_refuses_what_is_not_a_confirmation() {
    let (url, mut confirmations) = receiver::<LinkConfirmation>().await;
    let http = reqwest::Client::new();
    let get = http.get(&url).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let bad = http
        .post(&url)
        .body("{\"resultCode\": \"OK\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400, "no token");
    let large = http
        .post(&url)
        .body(vec![b' '; nugu_proxy::biz::MAX_CALLBACK_BODY + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);
    let ok = http
        .post(&url)
        .body(r#"{"userApiToken": "t-1", "resultCode": "OK", "extra": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let confirmation = next(&mut confirmations).await;
    assert_eq!(confirmation.user_api_token.expose(), "t-1");
    assert!(
        confirmations.try_recv().is_err(),
        "only the valid post reached the handler"
    );
}

#[tokio::test]
async fn complete_link_refuses_a_plain_http_confirm_url() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    // A confirmUrl is issued by LinkConfirmations, whose base must be https.
    let err = LinkConfirmations::new("http://publisher.example/confirm/").unwrap_err();
    assert!(matches!(err, BizError::Config(_)), "{err:?}");
    let auth = LinkPolicy::new(["nugu.example"])
        .parse_query("status=s&email=e%40example.com&callBack=https%3A%2F%2Fnugu.example%2Fcb")
        .unwrap()
        .for_signed_in_user("e@example.com")
        .unwrap();
    let err = client
        .complete_link(&auth, &UserApiToken::new(" "), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BizError::Unsendable {
                field: "userApiToken",
                ..
            }
        ),
        "{err:?}"
    );
}

// -- issue 21: the emulator no kinder than NUGU -----------------------------------------------

#[tokio::test]
async fn the_emulator_refuses_a_callback_outside_ports_80_and_443() {
    let emulator = plays(Emulator::builder().token(TOKEN)).await;
    // The client's own check is lifted for 127.0.0.1: the emulator must still refuse.
    let client = client_of(&emulator);
    let token = enrolled(&emulator, &client, "kim@example.com").await;
    emulator
        .add_device("kim@example.com", "NU200_0001", DeviceState::Connected)
        .unwrap();
    let (url, mut results) = receiver::<UserAnnouncementResult>().await;
    let err = client
        .announce_to_user(&token, &reminder(), Some(&url))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BizError::Api(ErrorCode::Unknown(c)) if c == "INVALID_REQUEST"),
        "{err:?}"
    );
    assert!(
        emulator.heard("NU200_0001").is_empty(),
        "refused, not played"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(results.try_recv().is_err(), "NUGU never calls that port");
}

#[tokio::test]
async fn a_disallowed_play_on_the_group_announcement_answers_what_its_page_shows() {
    let emulator = emulator(Edition::Full).await;
    let client = client_of(&emulator);
    let group = client
        .create_group(&GroupRequest::new("Stores").play_service_ids([PLAY]))
        .await
        .unwrap();
    let token = group.token.unwrap();
    for play in [PLAY_OFF, PLAY_FOREIGN, "com.unknown"] {
        let err = client
            .announce_to_group(&token, &Announcement::new(play).tts(Tts::new("안녕")), None)
            .await
            .unwrap_err();
        // The group page lists "허용되지 않는 playServiceId" under V1ANN204.
        assert_eq!(err.code(), Some(&ErrorCode::V1ann204), "{play}");
    }
}
