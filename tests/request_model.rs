//! The request model on real NUGU payloads: parsing, round trips, errors, masking.

mod common;

use common::{accepted_shapes, fixture};
use nugu_proxy::request::{AudioPlayerContext, Event, ParseErrorKind, SupportedInterfaces};
use nugu_proxy::{ActionRequest, ServiceType};
use serde_json::Value;

fn parse(name: &str) -> ActionRequest {
    ActionRequest::from_slice(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn seed_sample_with_full_edition_fields() {
    let request = parse("private_play_full");
    assert_eq!(request.version(), Some("2.0"));
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
        (
            Some("홍길동"),
            Some("01011112222"),
            Some("gilodng@email-domain.com")
        )
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
    assert_eq!(event.event_type(), "AudioPlayer.PlaybackFinished");
    assert_eq!(
        (event.token(), event.offset_in_milliseconds()),
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
        ("version", request.version().unwrap()),
        ("actionName", request.action_name()),
        ("parameter value", parameter.value().unwrap()),
        ("event", request.event().unwrap().get()),
        ("accessToken", request.session().access_token().unwrap()),
        ("userKey", play.user_key()),
        ("name", user.name().unwrap()),
        ("userToken", user.user_token().unwrap()),
    ] {
        assert!(in_body(s), "{what} is not read from the body");
    }
    // Handles taken out of the request (as the layer does) outlive it.
    let user = user.clone();
    drop(request);
    assert_eq!(user.name(), Some("홍길동"));
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
    assert_eq!(request.enrolled_user().unwrap().name(), Some("홍길동"));
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
    assert_eq!(request.enrolled_user().unwrap().name(), Some("홍길동"));
    let request: ActionRequest =
        serde_json::from_reader(fixture("audio_event").as_bytes()).unwrap();
    let event: Event = request.event().unwrap().parse().unwrap();
    assert_eq!(event.token(), Some("track-7"));
}

/// A missing `actionName` is the one missing field that refuses the request (`userKey`,
/// `deviceKey`, `name`, `phoneNo`, `email`: see the issue 21 tests below); a field of the wrong
/// type is refused wherever it is, and the error names its path.
#[test]
fn missing_required_fields_name_their_path() {
    let cases = [("\"actionName\": \"check_in\",", "", "action.actionName")];
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

    // A value that is an object or an array is no parameter value (a number or a boolean is:
    // see tests/tolerance.rs).
    let value_as_object =
        r#"{"version":"2.0","action":{"actionName":"a","parameters":{"p":{"value":{"n":5}}}}}"#;
    let err = ActionRequest::from_slice(value_as_object).unwrap_err();
    assert_eq!(err.path(), Some("action.parameters.p.value"));
    assert_eq!(err.kind(), ParseErrorKind::Data);
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
        "율도국",   // tag: an employee number, a shop code
        "NU200_XXXXXX",
        "user.0.A3JFAD5",
        "device.0.6L273",
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
    assert!(
        debug.contains("user_key: user.0…(71 chars)")
            && debug.contains("device_key: device…(73 chars)")
            && debug.contains("device_unique_id: Some(NU2…(12 chars))")
            && debug.contains("tag: Some(<redacted>)"),
        "{debug}"
    );
    assert_eq!(user.masked_name().unwrap().to_string(), "홍*동");
}

// ---- what NUGU sends: the docs' samples and the shapes real traffic has ---------------------

/// Request bodies NUGU sends or documents, every one of which must parse: the samples of the
/// NUGU pages as printed (`tests/fixtures/nugu_docs/`: placeholders kept, elisions filled
/// minimally, the missing comma before `"profile"` added), and one fixture per shape the model
/// once refused (`tests/fixtures/tolerance/`).
fn accepted() -> Vec<String> {
    let shapes = accepted_shapes();
    assert!(shapes.len() >= 18, "{shapes:?}");
    shapes
}

/// Parses `body` with the scanner (`from_bytes`) and with plain serde, and checks that both
/// accept it and agree.
fn parse_both(what: &str, body: &str) -> ActionRequest {
    let fast = ActionRequest::from_bytes(bytes::Bytes::from(body.to_owned()))
        .unwrap_or_else(|e| panic!("from_bytes refused {what}: {e}"));
    let slow: ActionRequest = serde_json::from_slice(body.as_bytes())
        .unwrap_or_else(|e| panic!("serde refused {what}: {e}"));
    assert_eq!(
        serde_json::to_value(&fast).unwrap(),
        serde_json::to_value(&slow).unwrap(),
        "{what}"
    );
    assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{what}");
    fast
}

#[test]
fn every_documented_and_tolerated_shape_parses_the_same_both_ways() {
    for name in accepted() {
        parse_both(&name, &fixture(&name));
    }
}

#[test]
fn the_api_reference_sample_reads_as_printed() {
    let request = parse_both("api reference", &fixture("nugu_docs/api_reference_request"));
    assert_eq!(request.version(), Some("2.0"));
    assert_eq!(request.parameters().value("KEY"), Some("VALUE"));
    let session = request.session();
    assert_eq!((session.id(), session.is_new()), (None, false));
    assert_eq!(session.access_token(), Some("{{string}}"));
    assert!(request.private_play().is_none());
}

#[test]
fn the_backend_parameter_sample_needs_no_version_nor_context() {
    let request = parse_both(
        "backend parameters",
        &fixture("nugu_docs/backend_parameters"),
    );
    assert_eq!(request.version(), None);
    assert_eq!(request.action_name(), "action이름");
    assert_eq!(request.parameters().value("datetime"), Some("오늘"));
    let time = request.parameters().get("isValidTime").unwrap();
    assert_eq!((time.entity_type(), time.value()), (None, None));
    assert!(request.context().device().device_type().is_none());
    // Serialized, absent stays absent.
    let json = serde_json::to_value(&request).unwrap();
    assert!(json.get("version").is_none(), "{json}");
}

#[test]
fn the_enrolled_user_samples_read_as_printed() {
    for name in [
        "nugu_docs/enrolled_user_full",
        "nugu_docs/enrolled_user_basic",
    ] {
        let request = parse_both(name, &fixture(name));
        let user = request.enrolled_user().unwrap();
        assert_eq!((user.name(), user.tag()), (Some("홍길동"), Some("율도국")));
        assert_eq!(
            request.private_play().unwrap().device_unique_id(),
            Some("NU200_XXXXXX")
        );
    }
}

#[test]
fn string_booleans_in_any_case_and_null_flags() {
    let session = |name: &str| {
        let request = parse_both(name, &fixture(name));
        let s = request.session();
        (s.is_new(), s.is_play_builder_request())
    };
    assert_eq!(session("tolerance/string_booleans"), (true, false));
    assert_eq!(session("tolerance/string_booleans_any_case"), (true, false));
    assert_eq!(session("tolerance/null_flags"), (false, false));
    for (written, read) in [
        ("true", true),
        ("false", false),
        ("\"true\"", true),
        ("\"True\"", true),
        ("\"FALSE\"", false),
        ("\"tRuE\"", true),
        ("null", false),
    ] {
        let body = format!(
            r#"{{"action":{{"actionName":"a"}},"context":{{"session":{{"isNew":{written},"isPlayBuilderRequest":{written}}}}}}}"#
        );
        let request = parse_both(written, &body);
        assert_eq!(request.session().is_new(), read, "{written}");
        assert_eq!(
            request.session().is_play_builder_request(),
            read,
            "{written}"
        );
    }
}

#[test]
fn null_means_absent_for_every_optional_field() {
    let request = parse_both("nulls", &fixture("tolerance/nulls_everywhere"));
    assert_eq!(request.version(), None);
    assert!(request.event().is_none());
    let context = request.context();
    assert!(context.supported_interfaces().is_none() && context.private_play().is_none());
    let session = context.session();
    assert_eq!((session.id(), session.access_token()), (None, None));
    assert_eq!(context.device().device_type(), None);
    assert!(context.device().state().is_none());
    let play = request.private_play().unwrap();
    assert_eq!(play.device_unique_id(), None);
    let user = play.enrolled_user().unwrap();
    assert_eq!(
        (user.tag(), user.user_token(), user.service_type()),
        (None, None, None)
    );
    let params = request.parameters();
    assert_eq!(params.len(), 2);
    assert_eq!(params.get("reason").unwrap().value(), None);

    for name in [
        "tolerance/null_context",
        "tolerance/null_session",
        "tolerance/null_device",
    ] {
        let request = parse_both(name, &fixture(name));
        assert_eq!(
            request.session().id().is_some(),
            name.ends_with("device"),
            "{name}"
        );
        assert!(request.context().device().device_type().is_some() == name.ends_with("session"));
    }
    assert!(parse_both("", &fixture("tolerance/null_parameters_map"))
        .parameters()
        .is_empty());
    assert!(parse_both("", &fixture("tolerance/null_profile"))
        .private_play()
        .is_none());
    assert!(parse_both("", &fixture("tolerance/null_private_play"))
        .private_play()
        .is_none());
    let request = parse_both("", &fixture("tolerance/null_enrolled_user"));
    assert!(request.private_play().is_some() && request.enrolled_user().is_none());
}

/// Each optional field of the full sample, set to `null` and then left out: the request still
/// parses, the same both ways, and reads the field as absent.
#[test]
fn each_optional_field_may_be_null_or_absent() {
    const OPTIONAL: &[&str] = &[
        "/version",
        "/event",
        "/context",
        "/context/session",
        "/context/session/id",
        "/context/session/isNew",
        "/context/session/accessToken",
        "/context/session/isPlayBuilderRequest",
        "/context/device",
        "/context/device/type",
        "/context/device/state",
        "/context/supportedInterfaces",
        "/context/privatePlay",
        "/profile",
        "/profile/privatePlay",
        "/profile/privatePlay/deviceUniqueId",
        "/profile/privatePlay/enrolledUser",
        "/profile/privatePlay/userKey",
        "/profile/privatePlay/deviceKey",
        "/profile/privatePlay/enrolledUser/name",
        "/profile/privatePlay/enrolledUser/phoneNo",
        "/profile/privatePlay/enrolledUser/email",
        "/profile/privatePlay/enrolledUser/tag",
        "/profile/privatePlay/enrolledUser/userToken",
        "/profile/privatePlay/enrolledUser/serviceType",
        "/action/parameters",
        "/action/parameters/place/type",
        "/action/parameters/place/value",
    ];
    for pointer in OPTIONAL {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let [nulled, left_out] = null_and_absent(parent, key);
        let a = parse_both(pointer, &nulled);
        let b = parse_both(pointer, &left_out);
        // Null and absent read alike (the serialized forms differ only where a field is
        // written out even when absent, such as an empty `context`).
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{pointer}");
    }
}

/// The full sample with the member `key` of the object at `parent` set to `null`, and left out.
fn null_and_absent(parent: &str, key: &str) -> [String; 2] {
    let full: Value = serde_json::from_str(&fixture("private_play_full")).unwrap();
    let mut nulled = full.clone();
    nulled.pointer_mut(parent).unwrap()[key] = Value::Null;
    let mut left_out = full;
    left_out
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    [nulled.to_string(), left_out.to_string()]
}

#[test]
fn number_and_boolean_values_keep_their_json_text() {
    let request = parse_both("scalars", &fixture("tolerance/scalar_values"));
    let params = request.parameters();
    assert_eq!(params.value("count"), Some("3"));
    assert_eq!(params.value("ratio"), Some("-1.5e3"));
    assert_eq!(params.value("agreed"), Some("true"));
    assert_eq!(params.value("refused"), Some("false"));
    assert_eq!(params.get("untyped").unwrap().entity_type(), None);
    let empty = params.get("empty").unwrap();
    assert_eq!((empty.entity_type(), empty.value()), (None, None));
    // The response echoes them as strings.
    let response =
        serde_json::to_value(nugu_proxy::ActionResponse::from_request(&request)).unwrap();
    assert_eq!(response["output"]["ratio"], "-1.5e3");
    assert_eq!(response["output"]["agreed"], "true");
}

#[test]
fn the_audio_player_event_is_typed_as_documented() {
    let request = parse_both("playback failed", &fixture("nugu_docs/playback_failed"));
    let raw = request.event().unwrap();
    let event: Event = raw.parse().unwrap();
    assert_eq!(event.event_type(), "AudioPlayer.PlaybackStarted");
    assert_eq!(event.request_id(), Some("{{STRING}}"));
    assert_eq!(event.offset_in_milliseconds(), Some(1000));
    let error = event.error().unwrap();
    assert_eq!(
        (error.error_type(), error.message()),
        (Some("{{STRING}}"), Some("{{STRING}}"))
    );
    let state = event.current_playback_state().unwrap();
    assert_eq!(state.offset_in_milliseconds(), Some(2000));
    assert_eq!(state.player_activity(), Some("{{STRING}}"));
    // Still reachable raw, as it arrived.
    let raw_value: Value = raw.parse().unwrap();
    assert_eq!(raw_value["currentPlaybackState"]["token"], "{{STRING}}");
    // Every event sample of the AudioPlayer page, with the documented fields.
    for kind in [
        "PlaybackStarted",
        "PlaybackFinished",
        "PlaybackStopped",
        "ProgressReportDelayElapsed",
        "ProgressReportIntervalElapsed",
        "PlaybackPaused",
        "PlaybackResumed",
    ] {
        let sample = format!(
            r#"{{"type": "AudioPlayer.{kind}", "requestId": "{{{{STRING}}}}", "token": "{{{{STRING}}}}", "offsetInMilliseconds": 42}}"#
        );
        let event: Event = serde_json::from_str(&sample).unwrap();
        assert_eq!(event.event_type(), format!("AudioPlayer.{kind}"));
        assert_eq!(
            (event.request_id(), event.offset_in_milliseconds()),
            (Some("{{STRING}}"), Some(42))
        );
        assert!(event.error().is_none() && event.current_playback_state().is_none());
    }
    // The event follows the model's rules: null is absent, a non-object is refused.
    let nulls = r#"{"type":"AudioPlayer.PlaybackFailed","requestId":null,"token":null,"offsetInMilliseconds":null,"error":null,"currentPlaybackState":{"token":null}}"#;
    let event: Event = serde_json::from_str(nulls).unwrap();
    assert_eq!(
        (event.request_id(), event.offset_in_milliseconds()),
        (None, None)
    );
    assert!(event.error().is_none());
    assert_eq!(event.current_playback_state().unwrap().token(), None);
    let err = serde_json::from_str::<Event>(r#"{"type":"t","error":"x"}"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid type: string \"x\", expected an object"),
        "{err}"
    );
    assert!(serde_json::from_str::<Event>(r#"["t"]"#).is_err());
    // Serialized back to the wire names.
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["type"], "AudioPlayer.PlaybackFailed");
    assert!(format!("{event:?}").starts_with("Event { event_type: \"AudioPlayer.PlaybackFailed\""));
}

/// Shapes that are not a NUGU request, refused by both parsers with a message that names the
/// JSON path and never a Rust type.
#[test]
fn non_objects_where_objects_belong_are_refused_without_naming_rust_types() {
    let cases: &[(&str, Option<&str>)] = &[
        (r#"["2.0", {"actionName": "a"}]"#, None),
        (r#""a request""#, None),
        (r#"{"action": ["a"]}"#, Some("action")),
        (r#"{"action": null}"#, Some("action")),
        (
            r#"{"action": {"actionName": null}}"#,
            Some("action.actionName"),
        ),
        (
            r#"{"action": {"actionName": "a", "parameters": []}}"#,
            Some("action.parameters"),
        ),
        (
            r#"{"action": {"actionName": "a", "parameters": {"p": []}}}"#,
            Some("action.parameters.p"),
        ),
        (
            r#"{"action": {"actionName": "a", "parameters": {"p": {"value": [1]}}}}"#,
            Some("action.parameters.p.value"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "event": ["x"]}"#,
            Some("event"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": []}"#,
            Some("context"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"session": "s"}}"#,
            Some("context.session"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"device": [1]}}"#,
            Some("context.device"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"device": {"state": 1}}}"#,
            Some("context.device.state"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"supportedInterfaces": []}}"#,
            Some("context.supportedInterfaces"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"session": {"isNew": "yes"}}}"#,
            Some("context.session.isNew"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"session": {"isNew": 1}}}"#,
            Some("context.session.isNew"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "context": {"session": {"isPlayBuilderRequest": "truE "}}}"#,
            Some("context.session.isPlayBuilderRequest"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": []}"#,
            Some("profile"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": {"privatePlay": "p"}}"#,
            Some("profile.privatePlay"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": {"privatePlay": {"userKey": "u", "deviceKey": 5}}}"#,
            Some("profile.privatePlay.deviceKey"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": {"privatePlay": {"userKey": ["u"], "deviceKey": "d"}}}"#,
            Some("profile.privatePlay.userKey"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": {"privatePlay": {"deviceKey": "d", "enrolledUser": {"name": 1}}}}"#,
            Some("profile.privatePlay.enrolledUser.name"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": {"privatePlay": {"userKey": "u", "deviceKey": "d", "enrolledUser": [1]}}}"#,
            Some("profile.privatePlay.enrolledUser"),
        ),
        (
            r#"{"action": {"actionName": "a"}, "profile": {"privatePlay": {"userKey": "u", "deviceKey": "d", "enrolledUser": {"name": "n", "email": {}}}}}"#,
            Some("profile.privatePlay.enrolledUser.email"),
        ),
    ];
    for (body, path) in cases {
        assert!(
            serde_json::from_str::<ActionRequest>(body).is_err(),
            "serde accepted {body}"
        );
        let err = ActionRequest::from_slice(body).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data, "{body}: {err}");
        assert_eq!(err.path(), *path, "{body}: {err}");
        assert!(err.line() > 0, "{body}: {err}");
        let message = err.to_string();
        for rust in [
            "struct", "Wire", "enum", "Option", "String", "Span", "Fields", "Model",
        ] {
            assert!(!message.contains(rust), "{body}: {message}");
        }
    }
    let err = ActionRequest::from_slice(r#"[{"action": {"actionName": "a"}}]"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid type: sequence, expected an object (line 1, "),
        "{err}"
    );
}

// ---- issue 21: an incomplete enrolled user, a profile without its keys, a dedicated device -----

/// NUGU's page marks `name`, `phoneNo` and `email` mandatory, but an enrolled user lacking one
/// (or sending it `null`) is still an enrolled user: refusing the request would refuse every
/// request of that user.
#[test]
fn an_enrolled_user_lacking_name_phone_or_email_parses() {
    let request = parse_both("incomplete", &fixture("tolerance/enrolled_user_incomplete"));
    let user = request.enrolled_user().unwrap();
    assert_eq!(
        (user.name(), user.phone_no(), user.email(), user.tag()),
        (Some("홍길동"), None, None, Some("율도국"))
    );
    assert!(!user.is_complete());
    assert_eq!(user.masked_name().unwrap().to_string(), "홍*동");
    assert!(user.masked_phone_no().is_none() && user.masked_email().is_none());
    // Debug masks what is there and shows what is not as absent.
    let debug = format!("{request:?}");
    assert!(
        !debug.contains("홍길동") && !debug.contains("율도국"),
        "{debug}"
    );
    assert!(
        debug.contains("name: Some(홍*동), phone_no: None, email: None"),
        "{debug}"
    );
    // Serialized, absent stays absent.
    let json = serde_json::to_value(&request).unwrap();
    let sent = &json["profile"]["privatePlay"]["enrolledUser"];
    assert!(
        sent.get("phoneNo").is_none() && sent.get("email").is_none(),
        "{json}"
    );

    let request = parse_both("empty", &fixture("tolerance/enrolled_user_empty"));
    let user = request.enrolled_user().unwrap();
    assert_eq!(
        (user.name(), user.phone_no(), user.email()),
        (None, None, None)
    );
    assert!(parse("private_play_full")
        .enrolled_user()
        .unwrap()
        .is_complete());
    for field in ["name", "phoneNo", "email"] {
        for body in null_and_absent("/profile/privatePlay/enrolledUser", field) {
            let request = parse_both(field, &body);
            let user = request.enrolled_user().unwrap();
            let read = [user.name(), user.phone_no(), user.email()];
            let absent: Vec<usize> = (0..3).filter(|&i| read[i].is_none()).collect();
            let expected = ["name", "phoneNo", "email"]
                .iter()
                .position(|f| *f == field);
            assert_eq!(absent, Vec::from_iter(expected), "{field}");
            assert!(!user.is_complete() && request.private_play().is_some());
        }
    }
}

/// A `privatePlay` without `userKey` or `deviceKey` is no profile: the request parses, and
/// reads as having no `privatePlay` (nor enrolled user), so that nothing trusts half a profile.
#[test]
fn a_private_play_without_its_keys_is_set_aside_not_refused() {
    let request = parse_both("no keys", &fixture("tolerance/private_play_without_keys"));
    assert!(request.private_play().is_none());
    assert!(request.enrolled_user().is_none());
    assert!(request.private_play_set_aside());
    let debug = format!("{request:?}");
    assert!(debug.contains("set_aside"), "{debug}");
    assert!(
        !debug.contains("홍길동") && !debug.contains("gildong"),
        "{debug}"
    );
    // Deserialized on its own, it is no `PrivatePlay`.
    let play = &serde_json::from_str::<Value>(&fixture("tolerance/private_play_without_keys"))
        .unwrap()["profile"]["privatePlay"];
    let err = serde_json::from_value::<nugu_proxy::PrivatePlay>(play.clone()).unwrap_err();
    assert!(err.to_string().contains("userKey or deviceKey"), "{err}");
    // A request without a profile, or with a whole one, has nothing set aside.
    assert!(!parse("private_play_full").private_play_set_aside());
    assert!(!parse("play_builder").private_play_set_aside());
    for field in ["userKey", "deviceKey"] {
        for body in null_and_absent("/profile/privatePlay", field) {
            let request = parse_both(field, &body);
            assert!(request.private_play().is_none(), "{field}");
            assert!(request.enrolled_user().is_none(), "{field}");
            assert!(request.private_play_set_aside(), "{field}");
        }
    }
}

/// The page: "a Private Play reached through a Biz-dedicated device receives only
/// deviceUniqueId, userKey and deviceKey".
#[test]
fn a_biz_dedicated_device_sends_a_profile_without_enrolled_user() {
    let request = parse_both(
        "dedicated device",
        &fixture("nugu_docs/biz_dedicated_device"),
    );
    let play = request.private_play().unwrap();
    assert_eq!(play.device_unique_id(), Some("NU200_XXXXXX"));
    assert!(play.enrolled_user().is_none() && request.enrolled_user().is_none());
}
