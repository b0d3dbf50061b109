// The `layer` fuzz target's logic, shared by `fuzz/fuzz_targets/layer.rs` (libFuzzer, nightly)
// and `tests/fuzz_corpus.rs` (the corpus replay on stable): both `include!` this file, so it
// holds items only (no inner attributes) and names paths relative to itself.
//
// Drives `PrivatePlayLayer` through `tower::Service::call` with a request decoded from the
// input: method, path, content-type, content-length, authorization, proof of HTTPS, layer
// options, and a body (raw, or a test fixture with structured mutations so that it gets deep)
// delivered in fuzzed frames, possibly broken off. The service completes without I/O, so its
// future is polled with a no-op waker.
//
// The input's layout (one byte each, 0 when the input runs out; zeros are a good NUGU call):
//   0 method, 1 path, 2 content-type, 3 content-length, 4 authorization, 5 transport,
//   6 option bits, 7-8 small body limit, 9 framing bits (0x40: `Transfer-Encoding: chunked`
//   too), 10 chunk size, 11 body source;
//   then, for a garbage authorization, a length byte and that many bytes;
//   then the body (source 0) or mutations of fixture `source - 1` (see `Mutation`).
//
// Checked on every input:
// - the call never panics and always answers, and the answer is exactly the one the README's
//   table "What the layer answers" gives for this request (an independent model, `expect`):
//   status and `error` code of each rejection (405 for every method but POST unless the
//   option passes it through, with `Allow: POST`), the enrolled-only policy's NUGU answer, or
//   the handler;
// - every rejection body is JSON with string `error` and `message`;
// - the handler sees `ActionRequest`, `PrivatePlay`, `EnrolledUser`, `Authentication` only for
//   POST, only with the authentication the headers allow, only when the action name equals the
//   last path segment; a Play Builder test call carries no `PrivatePlay`/`EnrolledUser` and no
//   profile, in its extensions or in the body it reads (the body sent without `profile` nor any
//   member a case-insensitive reader takes for it: `Profile`, `PROFILE`, `profile\u0000`, in
//   any escaping; and the `ActionRequest` extension is the parse of that body), and a
//   `StandInUser` exactly when the option asks for one (no other request ever has one); a
//   request passed through (not POST) gets an empty body; every other handler gets the very
//   body bytes that were sent;
// - the enrolled-only answer names every parameter, and every declared backend parameter;
// - the body the handler gets is framed by itself: `Content-Length` is its length (absent when
//   it is empty), and there is no `Transfer-Encoding`, whatever the client declared; and it
//   reads as a `serde_json::Value` (what the layer accepts, a `Json<Value>` handler reads);
// - the answer does not depend on the personal data and credentials in the body (enrolled
//   user's name, phoneNo, email, userToken; the session's accessToken): the same request with
//   those values replaced by others of the same length gets a byte-identical answer. The
//   handler here echoes none of them on purpose, so any dependence is a leak.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use nugu_proxy::layer::{ApiKey, Authentication, DEFAULT_BODY_LIMIT};
use nugu_proxy::transport::{ConnectionInfo, TlsInfo, TlsVersion, Transport};
use nugu_proxy::{ActionRequest, EnrolledUser, Play, PrivatePlay, PrivatePlayLayer, StandInUser};
use serde_json::Value;
use tower::{Layer, Service};

const KEY: &str = "fuzz-nugu-api-key-0123456789";
const NOT_ENROLLED: &str = "NOT_ENROLLED";
/// The backend parameters declared for `check_in`: one the fixtures send (null), one they never do.
const DECLARED: [&str; 2] = ["userName", "declaredOnly"];
const HANDLER_HEADER: &str = "x-fuzz-handler";

const FIXTURES: [&[u8]; 7] = [
    include_bytes!("../../tests/fixtures/private_play_full.json"),
    include_bytes!("../../tests/fixtures/private_play_basic.json"),
    include_bytes!("../../tests/fixtures/biz_device.json"),
    include_bytes!("../../tests/fixtures/play_builder.json"),
    include_bytes!("../../tests/fixtures/play_builder_forged.json"),
    include_bytes!("../../tests/fixtures/null_parameters.json"),
    include_bytes!("../../tests/fixtures/audio_event.json"),
];

/// Personal data and credentials: the answer must not depend on them.
const SECRETS: [&[&str]; 5] = [
    &["profile", "privatePlay", "enrolledUser", "name"],
    &["profile", "privatePlay", "enrolledUser", "phoneNo"],
    &["profile", "privatePlay", "enrolledUser", "email"],
    &["profile", "privatePlay", "enrolledUser", "userToken"],
    &["context", "session", "accessToken"],
];

pub fn run(data: &[u8]) {
    let case = Case::decode(data);
    let answer = case.check(&case.body);
    // The same request with other personal data: the same answer, byte for byte.
    if let Some((a, b)) = secret_variants(&case.body) {
        assert_eq!(
            case.check(&a),
            case.check(&b),
            "the answer depends on personal data or credentials in the body"
        );
    }
    drop(answer);
}

// ---- the request ---------------------------------------------------------------------------

struct Case {
    method: Method,
    path_kind: u8,
    content_type: Option<HeaderValue>,
    content_length: u8,
    authorization: Vec<HeaderValue>,
    https: Option<ConnectionInfo>,
    with_key: bool,
    play_builder: bool,
    /// `play_builder_stand_in_user()`.
    stand_in: bool,
    /// `play(..)` declaring [`DECLARED`] for `check_in`.
    declared: bool,
    enrolled_only: bool,
    insecure_ok: bool,
    /// `pass_through_unauthenticated([GET, PUT, post])`.
    pass_through: bool,
    limit: usize,
    framing: u8,
    chunk: usize,
    body: Vec<u8>,
}

fn byte(u: &mut Unstructured<'_>) -> u8 {
    u8::arbitrary(u).unwrap_or(0)
}

impl Case {
    fn decode(data: &[u8]) -> Self {
        let mut u = Unstructured::new(data);
        let method = match byte(&mut u) {
            1 => Method::GET,
            2 => Method::PUT,
            3 => Method::from_bytes(b"post").unwrap(),
            4 => Method::HEAD,
            5 => Method::OPTIONS,
            _ => Method::POST,
        };
        let path_kind = byte(&mut u);
        let content_type = match byte(&mut u) {
            1 => Some(HeaderValue::from_static("application/json; charset=utf-8")),
            2 => Some(HeaderValue::from_static("APPLICATION/JSON")),
            3 => None,
            4 => Some(HeaderValue::from_static("text/plain")),
            5 => Some(HeaderValue::from_static("application/jsonx")),
            6 => Some(HeaderValue::from_static(" application/json ;q=1")),
            7 => Some(HeaderValue::from_static("application/json, text/plain")),
            8 => Some(HeaderValue::from_static("application/ld+json")),
            9 => Some(HeaderValue::from_bytes(b"application/json\xff").unwrap()),
            10 => Some(HeaderValue::from_static("")),
            _ => Some(HeaderValue::from_static("application/json")),
        };
        let content_length = byte(&mut u);
        let auth_kind = byte(&mut u);
        let https = match byte(&mut u) {
            1 => {
                let proxy = "10.0.0.2:443".parse().unwrap();
                Some(ConnectionInfo::new(
                    proxy,
                    Transport::TrustedProxy { proxy },
                ))
            }
            2 => None,
            _ => Some(ConnectionInfo::new(
                "203.0.113.7:50123".parse().unwrap(),
                Transport::Tls(TlsInfo::new(TlsVersion::Tls13, Some(b"h2".to_vec()), None)),
            )),
        };
        let options = byte(&mut u);
        let small = u16::from_be_bytes([byte(&mut u), byte(&mut u)]);
        let framing = byte(&mut u);
        let chunk = usize::from(byte(&mut u)).max(1);
        let source = byte(&mut u);
        let token = |v: &str| HeaderValue::from_str(v).unwrap();
        let authorization = match auth_kind {
            1 => vec![token(&format!("Token  {KEY} "))],
            2 => vec![],
            3 => vec![token("token wrong-key")],
            4 => vec![token(&format!("Bearer {KEY}"))],
            5 => vec![
                token(&format!("token {KEY}")),
                token(&format!("token {KEY}")),
            ],
            6 => vec![token(KEY)],
            7 => vec![token(&format!("token{KEY}"))],
            8 => vec![token(&format!("token {KEY}x"))],
            9 => vec![token("token ")],
            10 => vec![token(&format!("token {KEY}")), token("")],
            11 => {
                let len = usize::from(byte(&mut u) % 64);
                let raw = u.bytes(len).unwrap_or_default();
                HeaderValue::from_bytes(raw).into_iter().collect()
            }
            12 => vec![token(&format!("TOKEN\t{KEY}"))],
            13 => vec![token(&format!("token {}", &KEY[..KEY.len() - 1]))],
            _ => vec![token(&format!("token {KEY}"))],
        };
        let body = match usize::from(source) % (FIXTURES.len() + 2) {
            0 => u.take_rest().to_vec(),
            i => {
                let base = match FIXTURES.get(i - 1) {
                    Some(fixture) => serde_json::from_slice(fixture).unwrap(),
                    None => large(),
                };
                let mut mutations = Vec::new();
                while mutations.len() < 16 {
                    match Mutation::arbitrary(&mut u) {
                        Ok(m) if !u.is_empty() || mutations.is_empty() => mutations.push(m),
                        _ => break,
                    }
                }
                mutate(base, &mutations, framing & 0x10 != 0)
            }
        };
        Case {
            method,
            path_kind,
            content_type,
            content_length,
            authorization,
            https,
            with_key: options & 1 == 0,
            play_builder: options & 2 != 0,
            enrolled_only: options & 4 != 0,
            insecure_ok: options & 8 != 0,
            pass_through: options & 32 != 0,
            stand_in: options & 64 != 0,
            declared: options & 128 != 0,
            limit: if options & 16 != 0 {
                usize::from(small)
            } else {
                DEFAULT_BODY_LIMIT
            },
            framing,
            chunk,
            body,
        }
    }

    fn layer(&self) -> PrivatePlayLayer {
        let mut layer = if self.with_key {
            PrivatePlayLayer::new(ApiKey::new(KEY).unwrap())
        } else {
            PrivatePlayLayer::dangerous_without_authentication()
        };
        if self.play_builder {
            layer = layer.allow_play_builder_test_calls();
        }
        if self.enrolled_only {
            layer = layer.enrolled_users_only(NOT_ENROLLED);
        }
        if self.stand_in {
            layer = layer.play_builder_stand_in_user();
        }
        if self.declared {
            layer = layer.play(Play::new().action("check_in", DECLARED));
        }
        if self.insecure_ok {
            layer = layer.dangerous_allow_insecure_transport();
        }
        if self.limit != DEFAULT_BODY_LIMIT {
            layer = layer.body_limit(self.limit);
        }
        if self.pass_through {
            layer = layer.pass_through_unauthenticated(passed_through());
        }
        layer
    }

    fn uri(&self, body: &[u8]) -> Uri {
        let name = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v["action"]["actionName"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "check_in".to_owned());
        let path = match self.path_kind {
            1 => format!("/{name}"),
            2 => format!("/nugu/{name}/"),
            3 => "/nugu/other".to_owned(),
            4 => format!("/nugu/{name}?x=1"),
            5 => format!("/nugu/{name}x"),
            6 => format!("/a/b/c/{name}"),
            7 => "/".to_owned(),
            8 => format!("/nugu/{name}#frag"),
            _ => format!("/nugu/{name}"),
        };
        path.parse()
            .unwrap_or_else(|_| Uri::from_static("/nugu/unparsable"))
    }

    fn content_length_value(&self, len: usize) -> Option<HeaderValue> {
        let limit = self.limit as u64;
        let text = match self.content_length {
            1 => len.to_string(),
            2 => len.saturating_sub(1).to_string(),
            3 => (len + 1).to_string(),
            4 => limit.to_string(),
            5 => (limit + 1).to_string(),
            6 => u64::MAX.to_string(),
            7 => "18446744073709551616".to_owned(),
            8 => "abc".to_owned(),
            9 => "-1".to_owned(),
            10 => format!("+{}", limit + 1),
            11 => format!(" {}", limit + 1),
            12 => "0".to_owned(),
            _ => return None,
        };
        Some(HeaderValue::from_str(&text).unwrap())
    }

    /// The frames the body arrives in: data (`Ok`) or a read error (`Err`).
    fn frames(&self, body: &[u8]) -> Vec<Result<Bytes, ()>> {
        let mut frames = Vec::new();
        if self.framing & 0x20 != 0 {
            frames.push(Ok(Bytes::new()));
        }
        let body = Bytes::copy_from_slice(body);
        let cut = if self.framing & 0x04 != 0 {
            body.len() / 2
        } else {
            body.len()
        };
        let (head, tail) = (body.slice(..cut), body.slice(cut..));
        let push = |part: Bytes, frames: &mut Vec<Result<Bytes, ()>>| {
            if self.framing & 0x01 != 0 {
                let mut at = 0;
                while at < part.len() {
                    let end = (at + self.chunk).min(part.len());
                    frames.push(Ok(part.slice(at..end)));
                    at = end;
                }
            } else if !part.is_empty() {
                frames.push(Ok(part));
            }
        };
        push(head, &mut frames);
        if self.framing & 0x02 != 0 {
            frames.push(Err(()));
        }
        push(tail, &mut frames);
        frames
    }

    /// Sends `body` through the layer, checks the answer against the model, and returns it.
    fn check(&self, body: &[u8]) -> (u16, Vec<u8>) {
        let uri = self.uri(body);
        let frames = self.frames(body);
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(uri.clone());
        if let Some(ct) = &self.content_type {
            builder = builder.header(http::header::CONTENT_TYPE, ct.clone());
        }
        if let Some(cl) = self.content_length_value(body.len()) {
            builder = builder.header(http::header::CONTENT_LENGTH, cl);
        }
        if self.framing & 0x40 != 0 {
            builder = builder.header(http::header::TRANSFER_ENCODING, "chunked");
        }
        for value in &self.authorization {
            builder = builder.header(http::header::AUTHORIZATION, value.clone());
        }
        if let Some(info) = &self.https {
            builder = builder.extension(info.clone());
        }
        let trailers = self.framing & 0x08 != 0;
        let request = builder
            .body(Frames {
                frames: frames.iter().cloned().collect(),
                trailers,
            })
            .unwrap();
        let expected = self.expect(request.headers(), &uri, &frames, body);

        let seen: Rc<RefCell<Vec<Seen>>> = Rc::default();
        let recorder = seen.clone();
        let mut service =
            self.layer()
                .layer(tower::service_fn(move |req: Request<Full<Bytes>>| {
                    let seen = Seen::record(req);
                    let echo = serde_json::json!({
                        "handled": true,
                        "actionName": seen.action.as_ref().map(|a| a.action_name().to_owned()),
                        "authentication": seen.authentication.map(|a| format!("{a:?}")),
                    });
                    recorder.borrow_mut().push(seen);
                    let mut response = Response::new(Full::new(Bytes::from(echo.to_string())));
                    response
                        .headers_mut()
                        .insert(HANDLER_HEADER, HeaderValue::from_static("1"));
                    std::future::ready(Ok::<_, Infallible>(response))
                }));
        match block_on(std::future::poll_fn(|cx| {
            Service::<Request<Frames>>::poll_ready(&mut service, cx)
        })) {
            Ok(()) => {}
            Err(never) => match never {},
        }
        let response = match block_on(service.call(request)) {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, response_body) = response.into_parts();
        let answer = match block_on(response_body.collect()) {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        };
        let status = parts.status.as_u16();
        let from_handler = parts.headers.contains_key(HANDLER_HEADER);
        let seen = seen.borrow();
        assert!(
            seen.len() <= 1,
            "the handler was called {} times",
            seen.len()
        );
        assert_eq!(from_handler, !seen.is_empty());
        assert!(
            [200, 400, 401, 403, 405, 413, 415].contains(&status),
            "undocumented status {status}"
        );

        match &expected {
            Expect::Reject(code) => {
                assert!(
                    seen.is_empty(),
                    "expected {code}, but the handler was reached"
                );
                let json: Value = serde_json::from_slice(&answer)
                    .unwrap_or_else(|e| panic!("rejection {status} is not JSON ({e}): {answer:?}"));
                assert_eq!(json["error"].as_str(), Some(*code), "{status} {json}");
                assert!(json["message"].is_string(), "{json}");
                assert_eq!(status, status_of(code), "{json}");
                assert_eq!(
                    parts.headers.get(http::header::ALLOW).map(|v| v.as_bytes()),
                    (status == 405).then_some(&b"POST"[..]),
                    "405 and only 405 says Allow: POST"
                );
                assert_eq!(
                    parts
                        .headers
                        .get(http::header::CONTENT_TYPE)
                        .map(|v| v.as_bytes()),
                    Some(&b"application/json"[..])
                );
            }
            Expect::NotEnrolled => {
                assert!(
                    seen.is_empty(),
                    "expected the enrolled-only answer, got the handler"
                );
                assert_eq!(status, 200);
                let json: Value = serde_json::from_slice(&answer).expect("NUGU answer is JSON");
                assert_eq!(json["resultCode"], NOT_ENROLLED, "{json}");
                assert_eq!(json["version"], "2.0", "{json}");
                let request = ActionRequest::from_bytes(Bytes::copy_from_slice(body)).unwrap();
                let output = json["output"].as_object().expect("output is an object");
                let mut names: Vec<&str> = request.parameters().iter().map(|(k, _)| k).collect();
                if self.declared && request.action_name() == "check_in" {
                    for name in DECLARED {
                        if !names.contains(&name) {
                            assert_eq!(output[name], Value::Null, "{json}");
                            names.push(name);
                        }
                    }
                }
                let echoed: Vec<&str> = output.keys().map(String::as_str).collect();
                let (mut names, mut echoed) = (names, echoed);
                names.sort_unstable();
                echoed.sort_unstable();
                assert_eq!(names, echoed, "output must echo every parameter");
            }
            Expect::Handler(authentication) => {
                let answer = String::from_utf8_lossy(&answer);
                let Some(seen) = seen.first() else {
                    panic!("expected the handler, got {status} {answer}");
                };
                assert_eq!(status, 200);
                match authentication {
                    None => assert!(seen.body.is_empty(), "a request passed through has a body"),
                    Some(Authentication::PlayBuilderTestCall) => {}
                    Some(_) => assert_eq!(seen.body, body, "the handler must get the bytes sent"),
                }
                assert!(!seen.transfer_encoding, "the handler got a Transfer-Encoding");
                assert_eq!(
                    seen.content_length.as_deref(),
                    (!seen.body.is_empty()).then(|| seen.body.len().to_string()).as_deref(),
                    "the handler's Content-Length is not its body's length"
                );
                if authentication.is_some() {
                    serde_json::from_slice::<Value>(&seen.body)
                        .expect("the body the layer forwards reads as a Value");
                }
                assert_eq!(seen.method, self.method);
                match authentication {
                    None => {
                        assert!(
                            seen.action.is_none()
                                && seen.authentication.is_none()
                                && !seen.private_play
                                && seen.enrolled_user.is_none(),
                            "a request that is not POST passes through untouched"
                        );
                    }
                    Some(authentication) => self.check_action(seen, *authentication, &uri, body),
                }
            }
        }
        (status, answer.to_vec())
    }

    fn check_action(&self, seen: &Seen, authentication: Authentication, uri: &Uri, body: &[u8]) {
        assert_eq!(seen.authentication, Some(authentication));
        let action = seen.action.as_ref().expect("an ActionRequest extension");
        assert_eq!(action.action_name(), last_segment(uri.path()));
        let parsed = ActionRequest::from_bytes(Bytes::copy_from_slice(body)).unwrap();
        if authentication == Authentication::PlayBuilderTestCall {
            assert!(parsed.session().is_play_builder_request());
            assert!(
                !seen.private_play
                    && seen.enrolled_user.is_none()
                    && action.private_play().is_none(),
                "an unauthenticated Play Builder call must carry no profile"
            );
            assert!(
                !self.enrolled_only || self.stand_in,
                "enrolled-only let a Play Builder call through"
            );
            assert_eq!(seen.stand_in, self.stand_in, "the stand-in, only if asked");
            check_forwarded_without_profile(seen, body);
        } else {
            assert_eq!(seen.private_play, parsed.private_play().is_some());
            assert_eq!(
                seen.enrolled_user.as_ref().map(|u| (
                    u.name(),
                    u.phone_no(),
                    u.email(),
                    u.user_token()
                )),
                parsed
                    .enrolled_user()
                    .map(|u| (u.name(), u.phone_no(), u.email(), u.user_token()))
            );
            if self.enrolled_only {
                assert!(
                    seen.enrolled_user.is_some(),
                    "enrolled-only let a request without user through"
                );
            }
            assert!(!seen.stand_in, "a stand-in on a request that is no test call");
        }
    }

    /// What the README's table says the layer answers.
    fn expect(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        frames: &[Result<Bytes, ()>],
        body: &[u8],
    ) -> Expect {
        if self.https.is_none() && !self.insecure_ok {
            return Expect::Reject("insecure_transport");
        }
        let declared = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limit as u64) {
            return Expect::Reject("payload_too_large");
        }
        let read = || -> Result<(), &'static str> {
            let mut left = self.limit;
            for frame in frames {
                match frame {
                    Ok(data) if data.len() > left => return Err("payload_too_large"),
                    Ok(data) => left -= data.len(),
                    Err(()) => return Err("body_read_failed"),
                }
            }
            Ok(())
        };
        if self.method != Method::POST {
            if !(self.pass_through && passed_through().contains(&self.method)) {
                return Expect::Reject("method_not_allowed");
            }
            return match read() {
                Err(code) => Expect::Reject(code),
                Ok(()) => Expect::Handler(None),
            };
        }
        let json = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        if !json {
            return Expect::Reject("unsupported_media_type");
        }
        let values: Vec<&HeaderValue> = headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .collect();
        let mut authentication = if !self.with_key {
            Authentication::Disabled
        } else {
            match values.as_slice() {
                [] if self.play_builder || self.stand_in => Authentication::PlayBuilderTestCall,
                [] => return Expect::Reject("missing_credentials"),
                [value] if is_our_key(value.as_bytes()) => Authentication::ApiKey,
                _ => return Expect::Reject("invalid_credentials"),
            }
        };
        if let Err(code) = read() {
            return Expect::Reject(code);
        }
        let Ok(request) = ActionRequest::from_bytes(Bytes::copy_from_slice(body)) else {
            return Expect::Reject("malformed_request");
        };
        if authentication == Authentication::PlayBuilderTestCall
            && !request.session().is_play_builder_request()
        {
            return Expect::Reject("missing_credentials");
        }
        if last_segment(uri.path()) != request.action_name() {
            return Expect::Reject("action_mismatch");
        }
        let has_user = authentication != Authentication::PlayBuilderTestCall
            && request.enrolled_user().is_some();
        let stand_in = self.stand_in && authentication == Authentication::PlayBuilderTestCall;
        if self.enrolled_only && !has_user && !stand_in {
            return Expect::NotEnrolled;
        }
        if !self.with_key {
            authentication = Authentication::Disabled;
        }
        Expect::Handler(Some(authentication))
    }
}

#[derive(Debug)]
enum Expect {
    Reject(&'static str),
    NotEnrolled,
    /// The handler, with the `Authentication` it sees (`None`: not an action request).
    Handler(Option<Authentication>),
}

fn status_of(code: &str) -> u16 {
    match code {
        "insecure_transport" => 403,
        "payload_too_large" => 413,
        "method_not_allowed" => 405,
        "unsupported_media_type" => 415,
        "missing_credentials" | "invalid_credentials" => 401,
        "malformed_request" | "body_read_failed" | "action_mismatch" => 400,
        other => panic!("unknown rejection {other}"),
    }
}

/// An unauthenticated call's forwarded body: the body sent without its `profile`, nothing else
/// changed, and the `ActionRequest` in the extensions is what that body says.
fn check_forwarded_without_profile(seen: &Seen, sent: &[u8]) {
    let forwarded = ActionRequest::from_bytes(Bytes::copy_from_slice(&seen.body))
        .expect("the forwarded body is a request the parser accepts");
    assert!(
        forwarded.private_play().is_none(),
        "the forwarded body of an unauthenticated call carries a profile"
    );
    let action = seen.action.as_ref().unwrap();
    assert_eq!(
        serde_json::to_string(&forwarded).unwrap(),
        serde_json::to_string(action).unwrap(),
        "the ActionRequest extension differs from the forwarded body"
    );
    // As a plain JSON reader (`axum::Json<Value>`) sees them: the sent document minus every
    // member a case-insensitive reader takes for `profile` (the layer accepts only what such a
    // reader can read).
    let mut expected = serde_json::from_slice::<Value>(sent).expect("an accepted body is a Value");
    match &mut expected {
        Value::Object(members) => members.retain(|key, _| !taken_for_profile(key)),
        other => panic!("the parser accepted a body that is {other}"),
    }
    let forwarded: Value =
        serde_json::from_slice(&seen.body).expect("the forwarded body reads as JSON");
    let members = forwarded.as_object().expect("the forwarded body is an object");
    for key in members.keys() {
        let ascii: String = key
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        assert_ne!(ascii, "profile", "a case-insensitive reader finds a profile: {key:?}");
    }
    assert_eq!(
        forwarded, expected,
        "the forwarded body differs by more than its profile"
    );
}

/// Whether a case-insensitive reader (Jackson, ASP.NET) could take the decoded top-level `key`
/// for `profile`: without its control characters, each letter folded by its simple case
/// mappings (`ı` and `İ` fold to `i`).
fn taken_for_profile(key: &str) -> bool {
    let fold = |c: char| {
        [c.to_lowercase().next(), c.to_uppercase().next()]
            .into_iter()
            .flatten()
            .find(char::is_ascii_alphabetic)
            .map_or(c, |a| a.to_ascii_lowercase())
    };
    let folded: String = key.chars().filter(|c| !c.is_control()).map(fold).collect();
    folded == "profile"
}

/// The methods the `pass_through` option names (a lowercase `post` among them: an extension
/// method, not POST).
fn passed_through() -> [Method; 3] {
    [
        Method::GET,
        Method::PUT,
        Method::from_bytes(b"post").unwrap(),
    ]
}

/// `Authorization: token <key>`: the scheme in any case, one space, the key (surrounding
/// spaces tolerated).
fn is_our_key(value: &[u8]) -> bool {
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return false;
    };
    value[..space].eq_ignore_ascii_case(b"token")
        && value[space + 1..].trim_ascii() == KEY.as_bytes()
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What the handler received.
struct Seen {
    method: Method,
    action: Option<ActionRequest>,
    authentication: Option<Authentication>,
    private_play: bool,
    enrolled_user: Option<EnrolledUser>,
    stand_in: bool,
    body: Vec<u8>,
    content_length: Option<String>,
    transfer_encoding: bool,
}

impl Seen {
    fn record(req: Request<Full<Bytes>>) -> Self {
        let (parts, body) = req.into_parts();
        let ext = &parts.extensions;
        let body = match block_on(body.collect()) {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(never) => match never {},
        };
        let header = parts.headers.get(http::header::CONTENT_LENGTH);
        Seen {
            content_length: header.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            transfer_encoding: parts.headers.contains_key(http::header::TRANSFER_ENCODING),
            method: parts.method.clone(),
            action: ext.get::<ActionRequest>().cloned(),
            authentication: ext.get::<Authentication>().copied(),
            private_play: ext.get::<PrivatePlay>().is_some(),
            enrolled_user: ext.get::<EnrolledUser>().cloned(),
            stand_in: ext.get::<StandInUser>().is_some(),
            body,
        }
    }
}

/// A request body delivered in the given frames; `Err` breaks it off.
struct Frames {
    frames: VecDeque<Result<Bytes, ()>>,
    trailers: bool,
}

impl Body for Frames {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        Poll::Ready(match this.frames.pop_front() {
            Some(Ok(data)) => Some(Ok(Frame::data(data))),
            Some(Err(())) => Some(Err(std::io::Error::other("client broke off"))),
            None if std::mem::take(&mut this.trailers) => {
                let mut trailers = HeaderMap::new();
                trailers.insert("x-trailer", HeaderValue::from_static("1"));
                Some(Ok(Frame::trailers(trailers)))
            }
            None => None,
        })
    }
}

/// Polls a future that needs no I/O to completion.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the layer's future is still pending without any I/O to wait for");
}

// ---- bodies ----------------------------------------------------------------------------------

/// The typical request with 200 more parameters (~16 KB), as `benches/fixtures.rs` builds it.
fn large() -> Value {
    let mut request: Value = serde_json::from_slice(FIXTURES[0]).unwrap();
    let parameters = request["action"]["parameters"].as_object_mut().unwrap();
    for i in 0..200 {
        parameters.insert(
            format!("backendParameter{i:03}"),
            serde_json::json!({"type": "BID_QT_COUNT", "value": format!("값 {i}")}),
        );
    }
    request
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    Set(Field, Leaf),
    Remove(Field),
    SetParameter(String, Leaf),
    Truncate(u16),
    Replace(u16, u8),
    Insert(u16, String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Field {
    Version,
    Action,
    ActionName,
    Parameters,
    Event,
    Context,
    Session,
    SessionId,
    IsPlayBuilderRequest,
    AccessToken,
    Device,
    DeviceState,
    SupportedInterfaces,
    ContextPrivatePlay,
    Profile,
    PrivatePlay,
    UserKey,
    DeviceKey,
    EnrolledUser,
    Name,
    PhoneNo,
    Email,
    Tag,
    UserToken,
    ServiceType,
}

impl Field {
    fn path(self) -> &'static [&'static str] {
        match self {
            Field::Version => &["version"],
            Field::Action => &["action"],
            Field::ActionName => &["action", "actionName"],
            Field::Parameters => &["action", "parameters"],
            Field::Event => &["event"],
            Field::Context => &["context"],
            Field::Session => &["context", "session"],
            Field::SessionId => &["context", "session", "id"],
            Field::IsPlayBuilderRequest => &["context", "session", "isPlayBuilderRequest"],
            Field::AccessToken => &["context", "session", "accessToken"],
            Field::Device => &["context", "device"],
            Field::DeviceState => &["context", "device", "state"],
            Field::SupportedInterfaces => &["context", "supportedInterfaces"],
            Field::ContextPrivatePlay => &["context", "privatePlay"],
            Field::Profile => &["profile"],
            Field::PrivatePlay => &["profile", "privatePlay"],
            Field::UserKey => &["profile", "privatePlay", "userKey"],
            Field::DeviceKey => &["profile", "privatePlay", "deviceKey"],
            Field::EnrolledUser => &["profile", "privatePlay", "enrolledUser"],
            Field::Name => &["profile", "privatePlay", "enrolledUser", "name"],
            Field::PhoneNo => &["profile", "privatePlay", "enrolledUser", "phoneNo"],
            Field::Email => &["profile", "privatePlay", "enrolledUser", "email"],
            Field::Tag => &["profile", "privatePlay", "enrolledUser", "tag"],
            Field::UserToken => &["profile", "privatePlay", "enrolledUser", "userToken"],
            Field::ServiceType => &["profile", "privatePlay", "enrolledUser", "serviceType"],
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Leaf {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Object,
    Array,
    /// `[[[...]]]`, this deep.
    Nested(u8),
    ParameterEntry(Option<String>, Option<String>),
}

impl Leaf {
    fn value(&self) -> Value {
        match self {
            Leaf::Null => Value::Null,
            Leaf::Bool(b) => Value::Bool(*b),
            Leaf::Int(i) => Value::from(*i),
            Leaf::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Leaf::Str(s) => Value::String(s.clone()),
            Leaf::Object => Value::Object(Default::default()),
            Leaf::Array => Value::Array(Vec::new()),
            Leaf::Nested(depth) => {
                (0..*depth).fold(Value::Null, |inner, _| Value::Array(vec![inner]))
            }
            Leaf::ParameterEntry(t, v) => serde_json::json!({"type": t, "value": v}),
        }
    }
}

fn object_at<'a>(
    value: &'a mut Value,
    path: &[&str],
) -> Option<&'a mut serde_json::Map<String, Value>> {
    path.iter()
        .try_fold(value, |v, key| v.as_object_mut()?.get_mut(*key))?
        .as_object_mut()
}

fn mutate(mut value: Value, mutations: &[Mutation], pretty: bool) -> Vec<u8> {
    for m in mutations {
        match m {
            Mutation::Set(field, leaf) => {
                let (last, parent) = field.path().split_last().unwrap();
                if let Some(map) = object_at(&mut value, parent) {
                    map.insert((*last).to_owned(), leaf.value());
                }
            }
            Mutation::Remove(field) => {
                let (last, parent) = field.path().split_last().unwrap();
                if let Some(map) = object_at(&mut value, parent) {
                    map.remove(*last);
                }
            }
            Mutation::SetParameter(name, leaf) => {
                if let Some(map) = object_at(&mut value, &["action", "parameters"]) {
                    map.insert(name.clone(), leaf.value());
                }
            }
            _ => {}
        }
    }
    let mut bytes = if pretty {
        serde_json::to_vec_pretty(&value)
    } else {
        serde_json::to_vec(&value)
    }
    .unwrap();
    for m in mutations {
        match m {
            Mutation::Truncate(at) => bytes.truncate(usize::from(*at)),
            Mutation::Replace(at, b) => {
                if let Some(slot) = bytes.get_mut(usize::from(*at)) {
                    *slot = *b;
                }
            }
            Mutation::Insert(at, s) => {
                let at = usize::from(*at).min(bytes.len());
                bytes.splice(at..at, s.bytes());
            }
            _ => {}
        }
    }
    bytes
}

/// The body twice, with the personal data and credentials replaced by two different values of
/// the same length; `None` when the body is not JSON (`Value`) or holds none of them.
fn secret_variants(body: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut found = false;
    let fill = |c: char, found: &mut bool| {
        let mut v = value.clone();
        for path in SECRETS {
            let target = path
                .iter()
                .try_fold(&mut v, |v, key| v.as_object_mut()?.get_mut(*key));
            if let Some(Value::String(s)) = target {
                *s = c.to_string().repeat(s.len().max(1));
                *found = true;
            }
        }
        serde_json::to_vec(&v).unwrap()
    };
    let a = fill('x', &mut found);
    let b = fill('y', &mut found);
    found.then_some((a, b))
}
