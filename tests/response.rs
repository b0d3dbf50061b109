//! ActionResponse keeps NUGU's response rules.

mod common;

use common::fixture;
use http_body_util::BodyExt;
use nugu_proxy::response::{AudioStream, Directive};
use nugu_proxy::testing::{call, NuguRequest, TEST_API_KEY};
use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, Play, PrivatePlayLayer};
use serde_json::{json, Value};

fn body(response: &ActionResponse) -> Value {
    serde_json::from_slice(&response.to_json()).unwrap()
}

#[test]
fn output_echoes_every_request_parameter() {
    let request = ActionRequest::from_slice(fixture("null_parameters")).unwrap();
    let json = body(&ActionResponse::from_request(&request));
    assert_eq!(json["version"], "2.0");
    assert_eq!(json["resultCode"], "OK");
    assert_eq!(
        json["output"],
        json!({"place": null, "reason": "late", "note": null, "empty": null})
    );
    assert!(json.get("directives").is_none());
    // In the request's order.
    let text =
        String::from_utf8(ActionResponse::from_request(&request).to_json().to_vec()).unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(
        at("place") < at("reason") && at("reason") < at("note") && at("note") < at("empty"),
        "{text}"
    );
}

#[test]
fn set_values_replace_or_add_and_null_backend_parameters_are_named() {
    let request = ActionRequest::from_slice(fixture("private_play_full")).unwrap();
    let response = ActionResponse::from_request(&request)
        .output("userName", "홍길동")
        .output("place", "본사 4층")
        .output_null("checkInTime")
        .output("extra", "x")
        .output_null("leftOutByNugu");
    let output = &body(&response)["output"];
    assert_eq!(output["userName"], "홍길동");
    assert_eq!(output["place"], "본사 4층");
    assert_eq!(output["date"], "오늘", "untouched values are echoed");
    assert_eq!(output["checkInTime"], Value::Null);
    assert_eq!(output["leftOutByNugu"], Value::Null);
    assert!(output.as_object().unwrap().contains_key("leftOutByNugu"));
    assert_eq!(output["extra"], "x");
    for (key, _) in request.parameters().iter() {
        assert!(output.get(key).is_some(), "{key} missing from output");
    }
    assert_eq!(
        output.as_object().unwrap().len(),
        request.parameters().len() + 2
    );
}

#[test]
fn echoed_values_outlive_the_request_and_escapes_are_kept() {
    let request = NuguRequest::action("a")
        .parameter("memo", "say \"hi\"\n")
        .parameter(
            "long",
            "a value longer than the twenty-three bytes kept inline",
        )
        .to_action_request();
    let response = ActionResponse::from_request(&request);
    drop(request);
    let output = &body(&response)["output"];
    assert_eq!(output["memo"], "say \"hi\"\n");
    assert_eq!(
        output["long"],
        "a value longer than the twenty-three bytes kept inline"
    );
    assert_eq!(response.output_value("memo"), Some(Some("say \"hi\"\n")));
}

#[test]
fn debug_shows_output_names_but_not_values() {
    let request = ActionRequest::from_slice(fixture("private_play_full")).unwrap();
    let response = ActionResponse::from_request(&request).output("userName", "홍길동");
    let debug = format!("{response:?}");
    assert!(
        debug.contains("userName") && debug.contains("place"),
        "{debug}"
    );
    assert!(
        !debug.contains("홍길동") && !debug.contains("본사"),
        "{debug}"
    );
}

#[test]
fn exception_codes_and_directives() {
    let request = ActionRequest::from_slice(fixture("audio_event")).unwrap();
    let response = ActionResponse::from_request(&request)
        .exception("NO_MORE_TRACKS")
        .directive(Directive::audio_play(
            AudioStream::new("https://cdn.example.com/t8.m4a", "track-8")
                .offset_ms(1500)
                .progress_report(10_000, 30_000)
                .expected_previous_token("track-7"),
        ))
        .directive(Directive::audio_pause())
        .directive(Directive::audio_stop());
    assert_eq!(response.result_code(), "NO_MORE_TRACKS");
    let json = body(&response);
    assert_eq!(json["resultCode"], "NO_MORE_TRACKS");
    assert_eq!(
        json["directives"],
        json!([
            {"type": "AudioPlayer.Play", "audioItem": {
                "stream": {
                    "url": "https://cdn.example.com/t8.m4a",
                    "offsetInMilliseconds": 1500,
                    "progressReport": {"progressReportDelayInMilliseconds": 10000, "progressReportIntervalInMilliseconds": 30000},
                    "token": "track-8",
                    "expectedPreviousToken": "track-7"
                },
                "metadata": {}
            }},
            {"type": "AudioPlayer.Pause"},
            {"type": "AudioPlayer.Stop"}
        ])
    );
}

#[tokio::test]
async fn into_http_is_a_200_json_response() {
    let request = ActionRequest::from_slice(fixture("private_play_basic")).unwrap();
    let http = ActionResponse::from_request(&request)
        .exception("NOT_ENROLLED")
        .into_http();
    assert_eq!(http.status(), 200, "business errors are still HTTP 200");
    assert_eq!(http.headers()["content-type"], "application/json");
    let bytes = http.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["resultCode"], "NOT_ENROLLED");
    assert_eq!(json["output"]["place"], "HQ");
}

#[test]
fn progress_report_delay_and_interval_are_each_optional() {
    let stream = |s: AudioStream| {
        serde_json::to_value(Directive::audio_play(s)).unwrap()["audioItem"]["stream"].clone()
    };
    let url = "https://cdn.example.com/a.m4a";
    let delay_only = stream(AudioStream::new(url, "a").progress_report_delay(10_000));
    assert_eq!(
        delay_only["progressReport"],
        json!({"progressReportDelayInMilliseconds": 10000})
    );
    let interval_only = stream(AudioStream::new(url, "a").progress_report_interval(30_000));
    assert_eq!(
        interval_only["progressReport"],
        json!({"progressReportIntervalInMilliseconds": 30000})
    );
    let both = stream(
        AudioStream::new(url, "a")
            .progress_report_interval(30_000)
            .progress_report_delay(10_000),
    );
    assert_eq!(
        both["progressReport"],
        json!({"progressReportDelayInMilliseconds": 10000, "progressReportIntervalInMilliseconds": 30000})
    );
    assert!(stream(AudioStream::new(url, "a"))
        .get("progressReport")
        .is_none());
}

/// An AudioPlayer play end to end: the speaker reports the end of a track (event and player
/// context); the handler answers the next track as a directive, through the layer.
#[tokio::test]
async fn an_audio_player_event_answered_with_the_next_track() {
    let play = tower::ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()))
        .service_fn(|request: http::Request<_>| async move {
            let action = request.extensions().get::<ActionRequest>().unwrap();
            let event: nugu_proxy::request::Event = action.event().unwrap().parse().unwrap();
            let next = match event.token() {
                Some("track-7") => "track-8",
                _ => "track-1",
            };
            let response = ActionResponse::from_request(action)
                .output("nextTrack", next)
                .directive(Directive::audio_play(
                    AudioStream::new(format!("https://cdn.example.com/{next}.m4a"), next)
                        .expected_previous_token(event.token().unwrap_or_default()),
                ));
            Ok::<_, std::convert::Infallible>(response.into_http())
        });

    let request = NuguRequest::action("next_track")
        .parameter("album", "demo")
        .audio_player("FINISHED", Some("track-7"), 183_000)
        .event("AudioPlayer.PlaybackFinished", Some("track-7"), 183_000);
    let answer = call(play, request.to_http_request()).await.nugu();
    assert_eq!(answer.result_code, "OK");
    assert_eq!(answer.output["album"].as_deref(), Some("demo"));
    assert_eq!(answer.output["nextTrack"].as_deref(), Some("track-8"));
    assert_eq!(answer.directive_types(), ["AudioPlayer.Play"]);
    let stream = &answer.directives[0]["audioItem"]["stream"];
    assert_eq!(stream["token"], "track-8");
    assert_eq!(stream["expectedPreviousToken"], "track-7");
}

/// A booking handler behind a layer that declares the play's backend parameters: every answer
/// names them all, success or failure, without an `output_null` in the handler.
#[tokio::test]
async fn declared_backend_parameters_are_in_every_answer_of_the_handler() {
    let play = Play::new().action("book", ["roomId", "bookingResult", "room"]);
    let app = tower::ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(TEST_API_KEY).unwrap()).play(play))
        .service_fn(|request: http::Request<_>| async move {
            let action = request.extensions().get::<ActionRequest>().unwrap();
            let response = ActionResponse::from_request(action);
            let response = match action.parameters().value("room") {
                Some("3층") => response.output("bookingResult", "booked"),
                Some(_) => response.exception("ROOM_TAKEN"),
                None => response.exception("NO_ROOM"),
            };
            Ok::<_, std::convert::Infallible>(response.into_http())
        });
    let book = |room: Option<&str>| {
        let request = NuguRequest::action("book").parameter("date", "오늘");
        match room {
            Some(room) => request.parameter("room", room),
            None => request,
        }
    };
    let cases = [
        (
            Some("3층"),
            "OK",
            json!({"date": "오늘", "room": "3층", "roomId": null, "bookingResult": "booked"}),
        ),
        (
            Some("4층"),
            "ROOM_TAKEN",
            json!({"date": "오늘", "room": "4층", "roomId": null, "bookingResult": null}),
        ),
        (
            None,
            "NO_ROOM",
            json!({"date": "오늘", "roomId": null, "bookingResult": null, "room": null}),
        ),
    ];
    for (room, code, output) in cases {
        let answer = call(app.clone(), book(room).to_http_request()).await;
        let json = answer.json();
        assert_eq!(json["resultCode"], code, "{room:?}");
        assert_eq!(json["output"], output, "{room:?}");
        // Each name once, the request's first, then the declared ones in declared order.
        let text = String::from_utf8(answer.body.to_vec()).unwrap();
        let names: Vec<&str> = output
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for name in names {
            assert_eq!(text.matches(&format!("\"{name}\":")).count(), 1, "{text}");
        }
        let order = |text: &str| {
            let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
            (at("date"), at("roomId"), at("bookingResult"))
        };
        let (date, room_id, result) = order(&text);
        assert!(date < room_id && room_id < result, "{text}");
    }
}

#[test]
fn a_declared_parameter_is_set_in_place_and_reads_null_until_then() {
    let play = Play::new()
        .action("book", ["roomId"])
        .action("book", ["bookingResult", "roomId"]);
    assert!(play
        .backend_parameters("book")
        .eq(["roomId", "bookingResult"]));
    let mut request = NuguRequest::action("book")
        .parameter("room", "3층")
        .to_action_request();
    play.attach(&mut request);
    let response = ActionResponse::from_request(&request);
    assert_eq!(response.output_value("roomId"), Some(None));
    assert_eq!(response.output_value("bookingResult"), Some(None));
    let response = response
        .output("roomId", "R301")
        .output_null("roomId")
        .output("roomId", "R302");
    assert_eq!(
        String::from_utf8(response.to_json().to_vec()).unwrap(),
        r#"{"version":"2.0","resultCode":"OK","output":{"room":"3층","roomId":"R302","bookingResult":null}}"#
    );
    assert_eq!(serde_json::to_value(&response).unwrap(), body(&response));
    // A bare view of the parameters knows no play; a clone of the request keeps it.
    assert_eq!(
        body(&ActionResponse::from_parameters(request.parameters()))["output"],
        json!({"room": "3층"})
    );
    assert_eq!(
        body(&ActionResponse::from_request(&request.clone()))["output"]["bookingResult"],
        Value::Null
    );
    // Another action's request is left as it was.
    let mut cancel = NuguRequest::action("cancel").to_action_request();
    play.attach(&mut cancel);
    assert_eq!(
        body(&ActionResponse::from_request(&cancel))["output"],
        json!({})
    );
}

/// Every response body the golden test writes: for each request fixture (and one request full
/// of escapes), the plain echo, a handler's outputs, `from_parameters`, and an exception with
/// directives. One line per body: `<request> <case> <body>`.
fn response_bodies() -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut names: Vec<String> = ["", "nugu_docs/", "tolerance/"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(format!("{root}/{dir}"))
                .unwrap()
                .filter_map(move |entry| {
                    let file = entry.unwrap().file_name().into_string().unwrap();
                    file.strip_suffix(".json")
                        .map(|name| format!("{dir}{name}"))
                })
        })
        .collect();
    names.sort();
    let mut requests: Vec<(String, ActionRequest)> = names
        .into_iter()
        .filter_map(|name| {
            let request = ActionRequest::from_slice(fixture(&name)).ok()?;
            Some((name, request))
        })
        .collect();
    let escapes = NuguRequest::action("a")
        .parameter(
            "say \"hi\"\n",
            "back\\slash\t\u{1}\u{1f}\u{7f} é 𝄞 \u{2028}",
        )
        .parameter("", "")
        .parameter(
            "userName",
            "a value longer than the twenty-three bytes kept inline",
        )
        .to_action_request();
    requests.push(("escapes".into(), escapes));

    let mut out = String::new();
    for (name, request) in &requests {
        let cases = [
            ("echo", ActionResponse::from_request(request)),
            (
                "handler",
                ActionResponse::from_request(request)
                    .output("userName", "홍길동")
                    .output("place", "본사 4층")
                    .output_null("checkInTime")
                    .output("extra \"q\"", "x \"q\" \\ \n \u{1} é 𝄞 \u{2028}")
                    .output_null("leftOutByNugu")
                    .output(
                        "userName",
                        "a name longer than the twenty-three bytes kept inline",
                    ),
            ),
            (
                "parameters",
                ActionResponse::from_parameters(request.parameters()).output("date", "내일"),
            ),
            (
                "exception",
                ActionResponse::from_request(request)
                    .output("nextTrack", "track-8")
                    .exception("CHECK_IN_\"FAILED\"")
                    .directive(Directive::audio_play(
                        AudioStream::new("https://cdn.example.com/t8.m4a?a=1&b=\"2\"", "track-8")
                            .offset_ms(1500)
                            .progress_report(10_000, 30_000)
                            .expected_previous_token("track-7"),
                    ))
                    .directive(Directive::audio_stop())
                    .directive(Directive::custom(
                        json!({"type": "Display.Template", "token": "t\"1", "n": [1, 2.5, null]}),
                    )),
            ),
        ];
        for (case, response) in cases {
            let json = String::from_utf8(response.to_json().to_vec()).unwrap();
            assert!(!json.contains('\n'), "{json}");
            out.push_str(&format!("{name} {case} {json}\n"));
        }
    }
    out
}

/// The bytes on the wire are those the response wrote before it was rebuilt to allocate less
/// (tests/fixtures/response_bodies.txt, written by the code of 4871a16): how the response is
/// stored and sized may change, what NUGU receives may not.
#[test]
fn response_bodies_are_byte_for_byte_those_of_before() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/response_bodies.txt"
    );
    let expected = std::fs::read_to_string(path).unwrap();
    let actual = response_bodies();
    for (expected, actual) in expected.lines().zip(actual.lines()) {
        assert_eq!(actual, expected);
    }
    assert_eq!(actual.lines().count(), expected.lines().count());
}
