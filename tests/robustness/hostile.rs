//! Hostile input: every case gets its documented status and a JSON error, never reaches the
//! handler when refused, and leaves the server serving the next request.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::support::*;

/// The body with the value at `pointer` replaced (the field is added if missing).
fn with(pointer: &str, value: Value) -> String {
    let mut body: Value = serde_json::from_str(&good_body()).unwrap();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = body.pointer_mut(parent).unwrap();
    parent[key] = value;
    body.to_string()
}

/// The body with `text` spliced in before the first occurrence of `anchor` (for what a
/// `serde_json::Value` cannot hold: duplicate keys, raw bytes).
fn splice(anchor: &str, text: &[u8]) -> Vec<u8> {
    let body = serde_json::to_string(&serde_json::from_str::<Value>(&good_body()).unwrap())
        .unwrap()
        .into_bytes();
    let at = body
        .windows(anchor.len())
        .position(|w| w == anchor.as_bytes())
        .unwrap_or_else(|| panic!("{anchor} not in the body"));
    [&body[..at], text, &body[at..]].concat()
}

#[tokio::test]
async fn malformed_json_gets_400_malformed_request() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", vec![]),
        ("not JSON", b"version=2.0&action=check_in".to_vec()),
        ("JSON null", b"null".to_vec()),
        ("a JSON array", b"[]".to_vec()),
        ("truncated", good_body().as_bytes()[..200].to_vec()),
        (
            "trailing garbage",
            format!("{} x", good_body()).into_bytes(),
        ),
        (
            "two documents",
            format!("{} {{}}", good_body()).into_bytes(),
        ),
        ("nested 30000 deep at the top", deep(30_000).into_bytes()),
        ("invalid UTF-8 in a name", splice("홍길동", b"\xff\xfe")),
        (
            "invalid UTF-8 in a key",
            splice("\"version\"", b"\"\xc0\xaf\":1,"),
        ),
        (
            "a lone surrogate escape in a name",
            with("/profile/privatePlay/enrolledUser/name", json!("X"))
                .replace("\"name\":\"X\"", "\"name\":\"\\ud800\"")
                .into_bytes(),
        ),
        ("a NUL byte outside a string", splice("\"version\"", b"\0")),
        (
            "a control character inside a string",
            splice("홍길동", b"\x01"),
        ),
        (
            "duplicate action",
            splice(
                "\"context\"",
                br#""action":{"actionName":"check_in","parameters":{}},"#,
            ),
        ),
        (
            "duplicate actionName",
            splice("\"parameters\"", br#""actionName":"other","#),
        ),
        (
            "duplicate enrolledUser.name",
            splice("\"phoneNo\"", "\"name\":\"김철수\",".as_bytes()),
        ),
        (
            "duplicate profile",
            splice("\"context\"", br#""profile":{},"#),
        ),
        (
            "duplicate userKey",
            splice("\"deviceKey\"", br#""userKey":"user.0.OTHER","#),
        ),
        (
            "a number out of range for isNew",
            with("/context/session/isNew", json!(1e300))
                .replace("1e300", "1e99999")
                .into_bytes(),
        ),
        (
            "a huge integer as session.id",
            with("/context/session/id", json!(0))
                .replace("\"id\":0", &format!("\"id\":{}", "9".repeat(5000)))
                .into_bytes(),
        ),
        ("actionName missing", {
            let mut v: Value = serde_json::from_str(&good_body()).unwrap();
            v["action"].as_object_mut().unwrap().remove("actionName");
            v.to_string().into_bytes()
        }),
        ("enrolledUser.email missing", {
            let mut v: Value = serde_json::from_str(&good_body()).unwrap();
            v["profile"]["privatePlay"]["enrolledUser"]
                .as_object_mut()
                .unwrap()
                .remove("email");
            v.to_string().into_bytes()
        }),
    ];
    for (case, body) in cases {
        let mut client = h1_client(server.addr, &cert.der).await;
        let answer = send(&mut client, nugu_post("/nugu/check_in", body)).await;
        eprintln!("{case}: {}", answer.status);
        answer.assert_error(400, "malformed_request");
        let message = String::from_utf8_lossy(&answer.body);
        for pii in ["홍길동", "01011112222", "gilodng@", "김철수", API_KEY] {
            assert!(
                !message.contains(pii),
                "{case}: the error quotes request data: {message}"
            );
        }
        assert_still_serving(server.addr, &cert.der).await;
    }
    server.shut_down().await;
}

#[tokio::test]
async fn odd_but_valid_json_is_served() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let long_name = "가".repeat(20_000); // 60 000 bytes of UTF-8, under the 64 KiB limit
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a 60 KB name",
            with("/profile/privatePlay/enrolledUser/name", json!(long_name)).into_bytes(),
        ),
        (
            "a 60 KB escaped string",
            with(
                "/profile/privatePlay/enrolledUser/tag",
                json!("\u{1}".repeat(10_000)),
            )
            .into_bytes(),
        ),
        (
            "a 60 KB unknown key",
            splice(
                "\"version\"",
                format!("\"{}\":1,", "k".repeat(60_000)).as_bytes(),
            ),
        ),
        (
            "numbers out of range in the raw event",
            with("/event/offsetInMilliseconds", json!(0))
                .replace(
                    "\"offsetInMilliseconds\":0",
                    "\"offsetInMilliseconds\":1e99999",
                )
                .into_bytes(),
        ),
        (
            "a 5000-digit number in device.state",
            with("/context/device/state/volume", json!(0))
                .replace("\"volume\":0", &format!("\"volume\":-{}", "9".repeat(5000)))
                .into_bytes(),
        ),
        (
            "duplicate unknown keys",
            splice("\"version\"", br#""x":1,"x":2,"#),
        ),
        (
            "duplicate keys inside the raw device.state",
            splice("\"volume\"", br#""volume":1,"#),
        ),
        // Raw and unknown values are skipped by serde_json without recursion: any depth is
        // served (the handler meets the depth limit only if it parses such a value).
        (
            "nested 30000 deep in the raw event",
            with("/event", Value::Null)
                .replace(
                    "\"event\":null",
                    &format!("\"event\":{{\"x\":{}}}", deep(30_000)),
                )
                .into_bytes(),
        ),
        // Only `action.actionName` is required (NUGU's own backend-parameter sample sends no
        // `version`).
        ("version missing", {
            let mut v: Value = serde_json::from_str(&good_body()).unwrap();
            v.as_object_mut().unwrap().remove("version");
            v.to_string().into_bytes()
        }),
        (
            "nested objects 8000 deep in an unknown field",
            splice(
                "\"version\"",
                format!("\"x\":{}1{},", "{\"a\":".repeat(8_000), "}".repeat(8_000)).as_bytes(),
            ),
        ),
        (
            "nested arrays 25000 deep in an unknown field",
            splice("\"version\"", format!("\"x\":{},", deep(25_000)).as_bytes()),
        ),
        (
            "nested 200 deep in device.state",
            with("/context/device/state", Value::Null)
                .replace(
                    "\"state\":null",
                    &format!("\"state\":{{\"x\":{}}}", deep(200)),
                )
                .into_bytes(),
        ),
        (
            "nested 100 deep in device.state",
            with("/context/device/state", Value::Null)
                .replace(
                    "\"state\":null",
                    &format!("\"state\":{{\"x\":{}{}}}", "[".repeat(100), "]".repeat(100)),
                )
                .into_bytes(),
        ),
        (
            "unknown fields everywhere",
            with(
                "/profile/privatePlay/enrolledUser/newField",
                json!({"a": [1, 2]}),
            )
            .into_bytes(),
        ),
        (
            "whitespace around the document",
            format!(" \n\t{}\r\n ", good_body()).into_bytes(),
        ),
    ];
    for (case, body) in cases {
        let before = calls.get();
        let mut client = h1_client(server.addr, &cert.der).await;
        let answer = send(&mut client, nugu_post("/nugu/check_in", body)).await;
        eprintln!("{case}: {}", answer.status);
        answer.assert_nugu_ok();
        assert_eq!(calls.get(), before + 1, "{case}");
    }
    assert_still_serving(server.addr, &cert.der).await;
    server.shut_down().await;
}

/// What a wrong type at a field does: refused (400 `malformed_request`) or, for the parts the
/// model ignores (inside a raw part), served; `null` is absent for every optional field.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Verdict {
    Refused,
    Served,
}

#[tokio::test]
async fn every_field_with_a_wrong_type() {
    use Verdict::{Refused, Served};
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    // (field, its JSON type, verdict for other types, verdict for null)
    let fields: &[(&str, &str, Verdict, Verdict)] = &[
        ("/version", "string", Refused, Served),
        ("/action", "object", Refused, Refused),
        ("/action/actionName", "string", Refused, Refused),
        ("/action/parameters", "object", Refused, Served),
        ("/action/parameters/place", "object", Refused, Served),
        ("/action/parameters/place/type", "string", Refused, Served),
        ("/action/parameters/place/value", "string", Refused, Served),
        ("/event", "object", Refused, Served),
        ("/event/offsetInMilliseconds", "number", Served, Served),
        ("/context", "object", Refused, Served),
        ("/context/session", "object", Refused, Served),
        ("/context/session/id", "string", Refused, Served),
        ("/context/session/isNew", "bool", Refused, Served),
        ("/context/session/accessToken", "string", Refused, Served),
        (
            "/context/session/isPlayBuilderRequest",
            "bool",
            Refused,
            Served,
        ),
        ("/context/device", "object", Refused, Served),
        ("/context/device/type", "string", Refused, Served),
        ("/context/device/state", "object", Refused, Served),
        ("/context/supportedInterfaces", "object", Refused, Served),
        ("/context/privatePlay", "object", Refused, Served),
        ("/profile", "object", Refused, Served),
        ("/profile/privatePlay", "object", Refused, Served),
        (
            "/profile/privatePlay/deviceUniqueId",
            "string",
            Refused,
            Served,
        ),
        ("/profile/privatePlay/userKey", "string", Refused, Refused),
        ("/profile/privatePlay/deviceKey", "string", Refused, Refused),
        (
            "/profile/privatePlay/enrolledUser",
            "object",
            Refused,
            Served,
        ),
        (
            "/profile/privatePlay/enrolledUser/name",
            "string",
            Refused,
            Refused,
        ),
        (
            "/profile/privatePlay/enrolledUser/phoneNo",
            "string",
            Refused,
            Refused,
        ),
        (
            "/profile/privatePlay/enrolledUser/email",
            "string",
            Refused,
            Refused,
        ),
        (
            "/profile/privatePlay/enrolledUser/tag",
            "string",
            Refused,
            Served,
        ),
        (
            "/profile/privatePlay/enrolledUser/userToken",
            "string",
            Refused,
            Served,
        ),
        (
            "/profile/privatePlay/enrolledUser/serviceType",
            "string",
            Refused,
            Served,
        ),
    ];
    let wrong: &[(&str, Value)] = &[
        ("string", json!("PII-홍길동-01099998888")),
        ("number", json!(-12.5e3)),
        ("bool", json!(true)),
        ("array", json!(["x", 1])),
        ("object", json!({"x": 1})),
    ];
    let mut client = h1_client(server.addr, &cert.der).await;
    let mut mismatches = Vec::new();
    for &(field, ty, other, null) in fields {
        let variants = wrong
            .iter()
            .filter(|(t, _)| *t != ty)
            .map(|(t, v)| {
                // A parameter's value may also be a number or a boolean (kept as its JSON
                // text); an array or an object is still refused.
                let scalar = matches!(*t, "number" | "bool");
                let verdict = if field == "/action/parameters/place/value" && scalar {
                    Served
                } else {
                    other
                };
                (*t, v.clone(), verdict)
            })
            .chain([("null", Value::Null, null)]);
        for (t, value, verdict) in variants {
            let answer = send(&mut client, nugu_post("/nugu/check_in", with(field, value))).await;
            let got = match answer.status {
                200 => Served,
                _ => {
                    answer.assert_error(400, "malformed_request");
                    let message = String::from_utf8_lossy(&answer.body);
                    for leak in ["PII", "01099998888", "12500", "12.5"] {
                        assert!(!message.contains(leak), "{field} as {t}: {message}");
                    }
                    Refused
                }
            };
            if got != verdict {
                mismatches.push(format!("{field} as {t}: expected {verdict:?}, got {got:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    // The same keep-alive connection served every case, then a good one.
    let answer = send(&mut client, nugu_post("/nugu/check_in", good_body())).await;
    assert_eq!(answer.assert_nugu_ok()["resultCode"], "OK");
    server.shut_down().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let over = with("/x", json!("a".repeat(70_000)));

    // With Content-Length: refused from the head.
    let mut client = h1_client(server.addr, &cert.der).await;
    send(&mut client, nugu_post("/nugu/check_in", over.clone()))
        .await
        .assert_error(413, "payload_too_large");
    assert_still_serving(server.addr, &cert.der).await;

    // A Content-Length of 10 GB with no body sent: refused at once, nothing read.
    let head = format!(
        "POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: token {API_KEY}\r\nContent-Length: 10000000000\r\n\r\n"
    );
    let (answer, _stream) = raw_exchange(server.addr, &cert.der, head.as_bytes()).await;
    answer.unwrap().assert_error(413, "payload_too_large");
    assert_still_serving(server.addr, &cert.der).await;

    // Without Content-Length (chunked): refused once the body grows past the limit.
    let mut stream = tls_connect(server.addr, &cert.der, &[b"http/1.1"]).await;
    let head = format!(
        "POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: token {API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    write_quietly(&mut stream, head.as_bytes()).await;
    for _ in 0..10 {
        let chunk = format!("{:x}\r\n{}\r\n", 10_000, "a".repeat(10_000));
        if !write_quietly(&mut stream, chunk.as_bytes()).await {
            break;
        }
    }
    read_answer(&mut stream)
        .await
        .expect("an answer")
        .assert_error(413, "payload_too_large");
    assert_eq!(
        calls.get(),
        2,
        "only the still-serving checks reached the handler"
    );
    assert_still_serving(server.addr, &cert.der).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_lying_content_length() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(
        builder(&cert).request_timeout(Duration::from_secs(1)),
        play(&calls),
    )
    .await;
    let body = good_body();

    // Shorter than the body: the server reads what it declares (truncated JSON: 400), and the
    // rest is no HTTP request: hyper answers 400 without a body and closes.
    let mut bytes = raw_post("/nugu/check_in", "", &body.as_bytes()[..100]);
    bytes.extend_from_slice(&body.as_bytes()[100..]);
    let (answer, mut stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
    answer.unwrap().assert_error(400, "malformed_request");
    if let Some(next) = read_answer(&mut stream).await {
        assert_eq!(next.status, 400, "{next:?}");
    }
    assert_closed(&mut stream).await;
    assert_still_serving(server.addr, &cert.der).await;

    // Longer than the body, and the client waits: the request timeout answers 504.
    let mut bytes = raw_post("/nugu/check_in", "", body.as_bytes());
    let declared = format!("Content-Length: {}", body.len());
    let lying = format!("Content-Length: {}", body.len() + 10);
    bytes = String::from_utf8(bytes)
        .unwrap()
        .replace(&declared, &lying)
        .into_bytes();
    let (answer, _stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
    answer.unwrap().assert_error(504, "timeout");
    assert_still_serving(server.addr, &cert.der).await;

    // Longer than the body, and the client ends its side: the body could not be read.
    let mut stream = tls_connect(server.addr, &cert.der, &[b"http/1.1"]).await;
    write_quietly(&mut stream, &bytes).await;
    let _ = stream.shutdown().await;
    let answer = read_answer(&mut stream).await.expect("an answer");
    answer.assert_error(400, "body_read_failed");
    assert_still_serving(server.addr, &cert.der).await;

    // Two different Content-Length headers, or one that is no number: hyper refuses the
    // message itself (400 without a body) and closes.
    for extra in ["Content-Length: 5\r\n", ""] {
        let mut bytes = raw_post("/nugu/check_in", extra, body.as_bytes());
        if extra.is_empty() {
            bytes = String::from_utf8(bytes)
                .unwrap()
                .replace(&declared, "Content-Length: 12abc")
                .into_bytes();
        }
        let (answer, mut stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
        let answer = answer.expect("an answer");
        assert_eq!(answer.status, 400, "{answer:?}");
        assert!(answer.body.is_empty());
        assert_closed(&mut stream).await;
        assert_still_serving(server.addr, &cert.der).await;
    }
    assert_eq!(
        calls.get(),
        5,
        "only the still-serving checks reached the handler"
    );
    server.shut_down().await;
}

#[tokio::test]
async fn chunked_bodies_that_never_end_or_break() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(
        builder(&cert).request_timeout(Duration::from_secs(1)),
        play(&calls),
    )
    .await;
    let head = format!(
        "POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: token {API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );

    // A chunk every 50 ms, never the last one: the request timeout answers 504 while the
    // client is still sending.
    let mut stream = tls_connect(server.addr, &cert.der, &[b"http/1.1"]).await;
    write_quietly(&mut stream, head.as_bytes()).await;
    let dribble = async {
        for _ in 0..100 {
            if !write_quietly(&mut stream, b"1\r\n \r\n").await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(2), dribble)
        .await
        .ok();
    let answer = read_answer(&mut stream).await.expect("an answer");
    answer.assert_error(504, "timeout");
    assert_still_serving(server.addr, &cert.der).await;

    // A chunk size that is no number: the body cannot be read.
    let mut bytes = head.clone().into_bytes();
    bytes.extend_from_slice(b"zz\r\n{}\r\n0\r\n\r\n");
    let (answer, _stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
    answer.unwrap().assert_error(400, "body_read_failed");
    assert_still_serving(server.addr, &cert.der).await;

    // A chunk longer than it declares.
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(b"2\r\n{}}}}}\r\n0\r\n\r\n");
    let (answer, _stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
    answer.unwrap().assert_error(400, "body_read_failed");
    assert_still_serving(server.addr, &cert.der).await;
    assert_eq!(calls.get(), 3);
    server.shut_down().await;
}

#[tokio::test]
async fn heads_over_the_limit_get_431() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let body = good_body();

    // Over max_header_bytes (16 KiB): the server's typed 431, in one header or in many.
    let mut client = h1_client(server.addr, &cert.der).await;
    let mut request = nugu_post("/nugu/check_in", body.clone());
    request
        .headers_mut()
        .insert("x-padding", "a".repeat(20_000).parse().unwrap());
    send(&mut client, request)
        .await
        .assert_error(431, "headers_too_large");
    let mut request = nugu_post("/nugu/check_in", body.clone());
    for i in 0..90 {
        request.headers_mut().insert(
            format!("x-pad-{i}")
                .as_str()
                .parse::<http::HeaderName>()
                .unwrap(),
            "b".repeat(200).parse().unwrap(),
        );
    }
    send(&mut client, request)
        .await
        .assert_error(431, "headers_too_large");
    // A long query string counts too.
    let long = format!("/nugu/check_in?{}", "q".repeat(17_000));
    send(&mut client, nugu_post(&long, body.clone()))
        .await
        .assert_error(431, "headers_too_large");
    // The connection is still good.
    assert_eq!(
        send(&mut client, nugu_post("/nugu/check_in", body.clone()))
            .await
            .assert_nugu_ok()["resultCode"],
        "OK"
    );

    // Over HTTP/2 as well.
    let mut h2 = h2_client(server.addr, &cert.der).await;
    let mut request = nugu_post("https://localhost/nugu/check_in", body.clone());
    request.headers_mut().remove("host");
    request
        .headers_mut()
        .insert("x-padding", "a".repeat(20_000).parse().unwrap());
    let response = h2.send_request(request).await.unwrap();
    assert_eq!(response.status(), 431);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap()["error"],
        "headers_too_large"
    );

    // Past hyper's own buffer limit (4 x 16 KiB, checked between reads, so a head that arrives
    // whole may get up to about twice that through to the typed answer above) or over 100
    // header fields: hyper answers 431 itself, without a body, and closes.
    let huge = format!("X-Padding: {}\r\n", "a".repeat(200_000));
    let many: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
    for extra in [huge, many] {
        let (answer, mut stream) = raw_exchange(
            server.addr,
            &cert.der,
            &raw_post("/nugu/check_in", &extra, body.as_bytes()),
        )
        .await;
        let answer = answer.expect("an answer");
        assert_eq!(answer.status, 431, "{answer:?}");
        assert!(answer.body.is_empty(), "{answer:?}");
        assert_closed(&mut stream).await;
        assert_still_serving(server.addr, &cert.der).await;
    }
    assert_eq!(calls.get(), 3);
    server.shut_down().await;
}

#[tokio::test]
async fn wrong_missing_or_repeated_authorization_gets_401() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let body = good_body();
    let mut client = h1_client(server.addr, &cert.der).await;
    let right = format!("token {API_KEY}");
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        ("missing", vec![], "missing_credentials"),
        (
            "wrong key",
            vec![b"token wrong-key".to_vec()],
            "invalid_credentials",
        ),
        (
            "key with a suffix",
            vec![format!("{right}x").into_bytes()],
            "invalid_credentials",
        ),
        (
            "key prefix only",
            vec![right.as_bytes()[..right.len() - 1].to_vec()],
            "invalid_credentials",
        ),
        (
            "other scheme",
            vec![format!("Bearer {API_KEY}").into_bytes()],
            "invalid_credentials",
        ),
        (
            "no scheme",
            vec![API_KEY.as_bytes().to_vec()],
            "invalid_credentials",
        ),
        (
            "empty token",
            vec![b"token ".to_vec()],
            "invalid_credentials",
        ),
        ("empty header", vec![b"".to_vec()], "invalid_credentials"),
        (
            "non-ASCII bytes",
            vec![b"token \xff\xfe".to_vec()],
            "invalid_credentials",
        ),
        (
            "repeated, both right",
            vec![right.clone().into_bytes(), right.clone().into_bytes()],
            "invalid_credentials",
        ),
        (
            "repeated, wrong then right",
            vec![b"token nope".to_vec(), right.clone().into_bytes()],
            "invalid_credentials",
        ),
        (
            "repeated, right then wrong",
            vec![right.clone().into_bytes(), b"token nope".to_vec()],
            "invalid_credentials",
        ),
    ];
    for (case, values, code) in cases {
        let mut request = nugu_post("/nugu/check_in", body.clone());
        request.headers_mut().remove("authorization");
        for value in values {
            request.headers_mut().append(
                "authorization",
                http::HeaderValue::from_bytes(&value).unwrap(),
            );
        }
        let answer = send(&mut client, request).await;
        eprintln!("{case}: {}", answer.status);
        answer.assert_error(401, code);
        assert_eq!(answer.header("www-authenticate"), Some("token"), "{case}");
        assert!(
            !String::from_utf8_lossy(&answer.body).contains(API_KEY),
            "{case}"
        );
    }
    // Repeated in a raw request too (two header lines, hyper keeps both).
    let bytes = raw_post(
        "/nugu/check_in",
        &format!("Authorization: token {API_KEY}\r\n"),
        body.as_bytes(),
    );
    let (answer, _stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
    answer.unwrap().assert_error(401, "invalid_credentials");
    assert_eq!(calls.get(), 0);
    assert_still_serving(server.addr, &cert.der).await;
    server.shut_down().await;
}

#[tokio::test]
async fn path_tricks() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let body = good_body();
    let cases: &[(&str, u16, &str)] = &[
        ("/nugu/%2e%2e/check_in", 400, "bad_path"),
        ("/nugu/%2E%2E/nugu/check_in", 400, "bad_path"),
        ("/nugu/../check_in", 400, "bad_path"),
        ("/nugu/./check_in", 400, "bad_path"),
        ("/nugu//check_in", 400, "bad_path"),
        ("//nugu/check_in", 400, "bad_path"),
        ("/nugu/check_in/", 400, "bad_path"),
        ("/nugu/x%2fcheck_in", 400, "bad_path"),
        ("/nugu/x%5ccheck_in", 400, "bad_path"),
        ("/nugu/check_in%00", 400, "bad_path"),
        ("/check_in", 404, "not_found"),
        ("/other/check_in", 404, "not_found"),
        ("/nugux/check_in", 404, "not_found"),
        ("/other/nugu/check_in", 404, "not_found"),
        ("/nugu", 404, "not_found"),
        ("/", 404, "not_found"),
        // Under the prefix, the layer decides: the last segment is not the body's actionName.
        ("/nugu/check%5Fin", 400, "action_mismatch"),
        ("/nugu/other", 400, "action_mismatch"),
        ("/nugu/CHECK_IN", 400, "action_mismatch"),
    ];
    for &(path, status, code) in cases {
        let bytes = raw_post(path, "", body.as_bytes());
        let (answer, _stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
        let answer = answer.unwrap_or_else(|| panic!("{path}: no answer"));
        eprintln!("{path}: {}", answer.status);
        answer.assert_error(status, code);
    }
    assert_eq!(calls.get(), 0);
    assert_still_serving(server.addr, &cert.der).await;
    server.shut_down().await;
}

#[tokio::test]
async fn request_smuggling_framing_is_never_ambiguous() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let body = good_body();
    let chunked = format!("{:x}\r\n{}\r\n0\r\n\r\n", body.len(), body);
    // A second request hidden after the first: it must never be served.
    let smuggled = raw_post("/nugu/check_in", "", body.as_bytes());
    // (extra headers, status of the first answer: 200 served by chunked framing, or hyper's
    // own 400 without a body)
    let cases: &[(&str, u16)] = &[
        ("Transfer-Encoding: chunked\r\n", 200),
        ("Transfer-Encoding: gzip, chunked\r\n", 200),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            200,
        ),
        ("Transfer-Encoding: chunked, gzip\r\n", 400),
        ("Transfer-Encoding: xchunked\r\n", 400),
        ("X-Folded: a\r\n folded\r\n", 400),
    ];
    for &(extra, status) in cases {
        let before = calls.get();
        // Content-Length counts the chunked body, so that framing by it would be coherent too.
        let head = format!(
            "POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Authorization: token {API_KEY}\r\nContent-Length: {}\r\n{extra}\r\n",
            chunked.len()
        );
        let bytes = [head.as_bytes(), chunked.as_bytes(), &smuggled].concat();
        let (answer, mut stream) = raw_exchange(server.addr, &cert.der, &bytes).await;
        let answer = answer.unwrap_or_else(|| panic!("{extra:?}: no answer"));
        assert_eq!(answer.status, status, "{extra:?}: {answer:?}");
        if status == 200 {
            answer.assert_nugu_ok();
            assert_eq!(calls.get(), before + 1, "{extra:?}");
        } else {
            assert!(answer.body.is_empty(), "{extra:?}: {answer:?}");
            assert_eq!(calls.get(), before, "{extra:?}");
        }
        // With both Content-Length and Transfer-Encoding hyper closes the connection after the
        // answer: the smuggled request is never read.
        assert!(
            read_answer(&mut stream).await.is_none(),
            "{extra:?}: a second answer"
        );
        assert_still_serving(server.addr, &cert.der).await;
    }
    server.shut_down().await;
}
