//! The request model on real NUGU payloads: parsing, round trips, errors, masking.

mod common;

use common::fixture;
use nugu_proxy::request::{AudioPlayerContext, Event, ParseErrorKind, SupportedInterfaces};
use nugu_proxy::{ActionRequest, ServiceType};
use serde_json::Value;

fn parse(name: &str) -> ActionRequest {
    ActionRequest::from_slice(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn seed_sample_with_full_edition_fields() {
    let request = parse("private_play_full");
    assert_eq!(request.version(), "2.0");
    assert_eq!(request.action_name(), "check_in");
    assert_eq!(request.parameters().value("place"), Some("본사 3층"));
    assert_eq!(request.parameters().value("userName"), None);
    let session = request.session();
    assert_eq!(
        session.id(),
        Some("svc.7f1f2a3c-9b8e-4c5d-a6b7-c8d9e0f1a2b3")
    );
    assert!(session.is_new() && !session.is_play_builder_request());
    assert!(session.access_token().unwrap().starts_with("eyJ"));
    let profile = request.private_play().unwrap();
    assert_eq!(profile.device_unique_id(), Some("NU200_XXXXXX"));
    assert!(profile.device_key().starts_with("device.0.6L273"));
    let user = request.enrolled_user().unwrap();
    assert_eq!(
        (user.name(), user.phone_no(), user.email()),
        ("홍길동", "01011112222", "gilodng@email-domain.com")
    );
    assert_eq!(user.tag(), Some("율도국"));
    assert_eq!(
        user.user_token(),
        Some("L4WYJEK2ZP42SD9VM8CTS6CFVR1DQDYQ59L4WYJ146BMJG5Q49I1QAFU2")
    );
    assert_eq!(user.service_type(), Some(&ServiceType::Service));
}

#[test]
fn seed_sample_without_full_edition_fields() {
    let user = parse("private_play_basic")
        .enrolled_user()
        .cloned()
        .unwrap();
    assert_eq!(user.tag(), Some("율도국"));
    assert_eq!((user.user_token(), user.service_type()), (None, None));
}

#[test]
fn biz_dedicated_device_has_no_enrolled_user() {
    let request = parse("biz_device");
    assert_eq!(
        request.private_play().unwrap().user_key(),
        "user.0.SHAREDDEVICEUSER"
    );
    assert!(request.enrolled_user().is_none());
}

#[test]
fn play_builder_test_call() {
    let request = parse("play_builder");
    assert!(request.session().is_play_builder_request());
    assert!(request.event().is_none());
    assert!(
        request.context().supported_interfaces().is_none(),
        "null means none"
    );
    assert!(request.private_play().is_none());
}

#[test]
fn null_and_left_out_parameter_parts() {
    let request = parse("null_parameters");
    let params = request.parameters();
    assert_eq!(params.len(), 4);
    let place = params.get("place").unwrap();
    assert_eq!((place.entity_type(), place.value()), (None, None));
    assert_eq!(params.value("reason"), Some("late"));
    assert_eq!(params.get("reason").unwrap().entity_type(), None);
    assert!(params.get("note").is_some() && params.value("note").is_none());
    assert!(
        params.get("empty").is_some(),
        "a null parameter is still named"
    );
    assert!(params.get("absent").is_none());
}

#[test]
fn audio_player_event_and_unknown_fields() {
    let request = parse("audio_event");
    let event: Event = request.event().unwrap().parse().unwrap();
    assert_eq!(event.event_type, "AudioPlayer.PlaybackFinished");
    assert_eq!(
        (event.token.as_deref(), event.offset_in_milliseconds),
        (Some("track-7"), Some(180_000))
    );
    let interfaces: SupportedInterfaces = request
        .context()
        .supported_interfaces()
        .unwrap()
        .parse()
        .unwrap();
    let player: AudioPlayerContext = interfaces.audio_player.unwrap();
    assert_eq!(player.player_activity, "FINISHED");
    let state: Value = request.context().device().state().unwrap().parse().unwrap();
    assert_eq!(state["volume"], 3);
}

#[test]
fn serializing_gives_back_the_wire_format() {
    let original: Value = serde_json::from_str(&fixture("private_play_full")).unwrap();
    let round_trip = serde_json::to_value(parse("private_play_full")).unwrap();
    assert_eq!(round_trip, original);
    // And the serialized form parses again to the same thing.
    let again = ActionRequest::from_slice(serde_json::to_vec(&round_trip).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(again).unwrap(), original);
}

#[test]
fn strings_are_read_from_the_body_itself() {
    let body = bytes::Bytes::from(fixture("private_play_full"));
    let request = ActionRequest::from_bytes(body.clone()).unwrap();
    let in_body = |s: &str| body.as_ptr_range().contains(&s.as_ptr());
    let user = request.enrolled_user().unwrap();
    let play = request.private_play().unwrap();
    let parameter = request.parameters().get("place").unwrap();
    for (what, s) in [
        ("version", request.version()),
        ("actionName", request.action_name()),
        ("parameter value", parameter.value().unwrap()),
        ("event", request.event().unwrap().get()),
        ("accessToken", request.session().access_token().unwrap()),
        ("userKey", play.user_key()),
        ("name", user.name()),
        ("userToken", user.user_token().unwrap()),
    ] {
        assert!(in_body(s), "{what} is not read from the body");
    }
    // Handles taken out of the request (as the layer does) outlive it.
    let user = user.clone();
    drop(request);
    assert_eq!(user.name(), "홍길동");
}

#[test]
fn escaped_strings_are_decoded() {
    let body = fixture("private_play_full")
        .replace(r#""tag": "율도국""#, r#""tag": "E\"12\u0034""#)
        .replace(r#""check_in""#, r#""check\u005fin""#)
        .replace(r#""place":"#, r#""pl\u0061ce":"#);
    let request = ActionRequest::from_slice(&body).unwrap();
    assert_eq!(request.enrolled_user().unwrap().tag(), Some(r#"E"124"#));
    assert_eq!(request.action_name(), "check_in");
    assert_eq!(request.parameters().value("place"), Some("본사 3층"));
    // Everything else reads as without the escapes.
    let plain = parse("private_play_full");
    assert_eq!(request.enrolled_user().unwrap().name(), "홍길동");
    assert_eq!(
        request.private_play().unwrap().device_key(),
        plain.private_play().unwrap().device_key()
    );
    assert_eq!(request.event().unwrap().get(), plain.event().unwrap().get());
}

#[test]
fn plain_serde_deserialization_works_too() {
    let value: Value = serde_json::from_str(&fixture("private_play_full")).unwrap();
    let request: ActionRequest = serde_json::from_value(value).unwrap();
    assert_eq!(request.enrolled_user().unwrap().name(), "홍길동");
    let request: ActionRequest =
        serde_json::from_reader(fixture("audio_event").as_bytes()).unwrap();
    assert_eq!(
        request
            .event()
            .unwrap()
            .parse::<Event>()
            .unwrap()
            .token
            .as_deref(),
        Some("track-7")
    );
}

#[test]
fn missing_required_fields_name_their_path() {
    let cases = [
        ("\"version\": \"2.0\",", "", "version"),
        ("\"actionName\": \"check_in\",", "", "action.actionName"),
        ("\"userKey\"", "\"userKeyX\"", "profile.privatePlay.userKey"),
        (
            "\"deviceKey\"",
            "\"deviceKeyX\"",
            "profile.privatePlay.deviceKey",
        ),
        (
            "\"name\"",
            "\"nameX\"",
            "profile.privatePlay.enrolledUser.name",
        ),
        (
            "\"phoneNo\"",
            "\"phone\"",
            "profile.privatePlay.enrolledUser.phoneNo",
        ),
        (
            "\"email\"",
            "\"mail\"",
            "profile.privatePlay.enrolledUser.email",
        ),
    ];
    for (from, to, path) in cases {
        let body = fixture("private_play_full").replacen(from, to, 1);
        let err = ActionRequest::from_slice(&body).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data, "{path}");
        assert_eq!(err.path(), Some(path), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{path}: missing required field")),
            "{err}"
        );
        assert!(err.line() > 0);
    }
}

#[test]
fn syntax_errors_have_a_position() {
    let err = ActionRequest::from_slice("{\n\"version\": \"2.0\",\n\"action\": {\"actionName\": }")
        .unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Syntax);
    assert_eq!(err.line(), 3);
    let err = ActionRequest::from_slice(b"{\"version\": \"2.\xff\"}").unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Syntax);
    assert!(err.to_string().contains("UTF-8"), "{err}");
    let err = ActionRequest::from_slice("").unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Syntax);
}

#[test]
fn wrong_types_and_duplicates_are_data_errors() {
    let body = fixture("private_play_basic").replace("\"isNew\": false", "\"isNew\": \"no\"");
    let err = ActionRequest::from_slice(&body).unwrap_err();
    assert_eq!(err.path(), Some("context.session.isNew"));
    assert!(!err.to_string().contains("no\""), "{err}");

    let duplicate_param = r#"{"version":"2.0","action":{"actionName":"a","parameters":{"p":{"value":"1"},"p":{"value":"2"}}},"context":{}}"#;
    let err = ActionRequest::from_slice(duplicate_param).unwrap_err();
    assert!(err.to_string().contains("duplicate parameter"), "{err}");

    let duplicate_field = r#"{"version":"2.0","version":"2.0","action":{"actionName":"a"}}"#;
    assert_eq!(
        ActionRequest::from_slice(duplicate_field)
            .unwrap_err()
            .kind(),
        ParseErrorKind::Data
    );

    let value_as_number =
        r#"{"version":"2.0","action":{"actionName":"a","parameters":{"p":{"value":5}}}}"#;
    let err = ActionRequest::from_slice(value_as_number).unwrap_err();
    assert_eq!(err.path(), Some("action.parameters.p.value"));
}

#[test]
fn unknown_service_type_is_kept() {
    let body = fixture("private_play_full").replace("\"SERVICE\"", "\"KIOSK\"");
    let request = ActionRequest::from_slice(body).unwrap();
    assert_eq!(
        request.enrolled_user().unwrap().service_type(),
        Some(&ServiceType::Other("KIOSK".into()))
    );
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json["profile"]["privatePlay"]["enrolledUser"]["serviceType"],
        "KIOSK"
    );
}

#[test]
fn debug_never_shows_personal_data_or_credentials() {
    let request = parse("private_play_full");
    let secrets = [
        "홍길동",
        "01011112222",
        "gilodng@email-domain.com",
        "L4WYJEK2ZP42SD9VM8CTS6CFVR1DQDYQ59L4WYJ146BMJG5Q49I1QAFU2",
        "eyJhbGciOiJSUzI1NiJ9",
        "본사 3층", // a parameter value: what the user said
    ];
    let user = request.enrolled_user().unwrap();
    let outputs = [
        format!("{request:?}"),
        format!("{request:#?}"),
        format!("{:?}", request.private_play().unwrap()),
        format!("{user:?}"),
        format!("{:?}", request.session()),
        format!("{:?}", request.parameters()),
    ];
    for output in &outputs {
        for secret in secrets {
            assert!(!output.contains(secret), "{secret} leaked in {output}");
        }
    }
    let debug = &outputs[0];
    assert!(
        debug.contains("홍*동")
            && debug.contains("010****2222")
            && debug.contains("g***@email-domain.com"),
        "{debug}"
    );
    assert!(debug.contains("<redacted>"));
    assert_eq!(user.masked_name().to_string(), "홍*동");
}
