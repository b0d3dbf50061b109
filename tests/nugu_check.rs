//! `nugu-check` (feature `check`), run as a process against a proxy written to break one rule
//! at a time: a test-only server with real TLS on 127.0.0.1 (and, when told to, plain HTTP on
//! the same port). Each break fails exactly its rule, with evidence; the good server passes
//! every rule. The crate's own examples are checked in `tests/example.rs`.

#![cfg(all(feature = "check", feature = "server"))]

mod common;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::https::cert_for_localhost;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

const KEY: &str = "nugu-check-fixture-key";
const LIMIT: usize = 64 * 1024;

/// What the fixture gets wrong; `None` is a proxy that keeps every rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Break {
    None,
    PlainHttp,
    NoHealth,
    DocsRequest500,
    Slow,
    HangsOnEvents,
    BadVersion,
    EmptyResultCode,
    NoEcho,
    TypeValueOutput,
    BadDirective,
    AcceptsAnyKey,
    EchoesPhoneInError,
    NullContext500,
    RefusesPlayBuilder,
    NoEnrolledUser500,
    Events500,
    UnknownAction404,
    AcceptsAnySize,
    AcceptsAnyContentType,
    AcceptsAnyMethod,
    BurstLimit,
}

struct Fixture {
    url: String,
    cacert: PathBuf,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the fixture on 127.0.0.1 (a free port) with its Web URL under `/nugu`.
async fn fixture(broken: Break) -> Fixture {
    let cert = cert_for_localhost();
    let dir = tempfile::tempdir().unwrap();
    let (cacert, _) = cert.write(dir.path());
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der.clone()], key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    handle(broken, in_flight.clone(), request)
                });
                let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let mut first = [0u8; 1];
                // A TLS record starts with 22 (handshake); anything else is plain HTTP.
                if tcp.peek(&mut first).await.unwrap_or(0) == 1 && first[0] != 22 {
                    if broken == Break::PlainHttp {
                        let _ = server.serve_connection(TokioIo::new(tcp), service).await;
                    }
                    return;
                }
                if let Ok(tls) = acceptor.accept(tcp).await {
                    let _ = server.serve_connection(TokioIo::new(tls), service).await;
                }
            });
        }
    });
    Fixture {
        url: format!("https://localhost:{port}/nugu"),
        cacert,
        _dir: dir,
        task,
    }
}

fn answer(status: StatusCode, body: Value) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    Ok(response)
}

/// Whether `body` is exactly the docs-shaped request (no tolerance reshaping, no event, an
/// enrolled user, the key).
fn is_docs_request(raw: &[u8], body: &Value) -> bool {
    let top: BTreeSet<&str> = body
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // The docs mark `event` mandatory: a spoken request carries one too (not an AudioPlayer one).
    let expected: BTreeSet<&str> = ["version", "action", "event", "context", "profile"].into();
    let params = body["action"]["parameters"].as_object();
    top == expected
        && body["version"] == "2.0"
        && body["event"]["type"].is_string()
        && !is_audio_player_event(body)
        && body["action"]["actionName"] == "check_in"
        && body["context"]["session"]["isNew"] == true
        && body["context"]["session"]["isPlayBuilderRequest"] == false
        && body["profile"]["privatePlay"]["enrolledUser"].is_object()
        && !String::from_utf8_lossy(raw).contains("\\u")
        && params.is_some_and(|p| p.keys().all(|k| !k.starts_with("nugu_check")))
}

/// A playback callback: an `event` whose type is one of AudioPlayer's. Every request has an
/// `event`, so its presence says nothing.
fn is_audio_player_event(body: &Value) -> bool {
    body["event"]["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("AudioPlayer."))
}

async fn handle(
    broken: Break,
    in_flight: Arc<AtomicUsize>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    use Break as B;
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if path == "/health" || path == "/nugu/health" {
        return if broken == B::NoHealth {
            answer(StatusCode::NOT_FOUND, json!({ "error": "not_found" }))
        } else {
            answer(StatusCode::OK, json!({ "status": "OK" }))
        };
    }
    if parts.method != http::Method::POST && broken != B::AcceptsAnyMethod {
        return answer(StatusCode::METHOD_NOT_ALLOWED, json!({ "error": "method" }));
    }
    let limit = if broken == B::AcceptsAnySize {
        usize::MAX
    } else {
        LIMIT
    };
    let Ok(collected) = Limited::new(body, limit).collect().await else {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "error": "too_large" }),
        );
    };
    let raw = collected.to_bytes();
    let json_type = parts
        .headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !json_type && broken != B::AcceptsAnyContentType && parts.method == http::Method::POST {
        return answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({ "error": "type" }),
        );
    }
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let key = parts.headers.get("authorization");
    let play_builder = key.is_none()
        && body["context"]["session"]["isPlayBuilderRequest"] == true
        && broken != B::RefusesPlayBuilder;
    let key_ok = key.is_some_and(|k| k.as_bytes() == format!("token {KEY}").as_bytes());
    if !key_ok && !play_builder && broken != B::AcceptsAnyKey {
        let mut refusal = json!({ "error": "invalid_credentials" });
        if broken == B::EchoesPhoneInError {
            refusal["for"] = body["profile"]["privatePlay"]["enrolledUser"]["phoneNo"].clone();
        }
        return answer(StatusCode::UNAUTHORIZED, refusal);
    }
    if parts.method != http::Method::POST {
        return answer(
            StatusCode::OK,
            json!({ "version": "2.0", "resultCode": "OK" }),
        );
    }
    if body.is_null() {
        return answer(StatusCode::BAD_REQUEST, json!({ "error": "malformed" }));
    }
    let fail = match broken {
        B::DocsRequest500 => is_docs_request(&raw, &body),
        B::NullContext500 => !body["context"].is_object(),
        B::NoEnrolledUser500 => !body["profile"]["privatePlay"]["enrolledUser"].is_object(),
        B::Events500 => is_audio_player_event(&body),
        B::UnknownAction404 => {
            if body["action"]["actionName"] != "check_in" {
                return answer(StatusCode::NOT_FOUND, json!({ "error": "no such action" }));
            }
            false
        }
        _ => false,
    };
    if fail {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "internal" }),
        );
    }
    if broken == B::HangsOnEvents && is_audio_player_event(&body) {
        std::future::pending::<()>().await;
    }
    if broken == B::Slow && is_audio_player_event(&body) {
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    if broken == B::BurstLimit {
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        in_flight.fetch_sub(1, Ordering::SeqCst);
        if now > 4 {
            return answer(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": "busy" }));
        }
    }

    let mut output = Map::new();
    if let Some(parameters) = body["action"]["parameters"].as_object() {
        for (name, parameter) in parameters {
            let value = match &parameter["value"] {
                Value::Null => Value::Null,
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            };
            let value = if broken == B::TypeValueOutput {
                json!({ "type": parameter["type"], "value": value })
            } else {
                value
            };
            output.insert(name.clone(), value);
        }
    }
    if broken == B::NoEcho {
        output.clear();
    }
    let mut response = json!({
        "version": if broken == B::BadVersion { "1.0" } else { "2.0" },
        "resultCode": if broken == B::EmptyResultCode { "" } else { "OK" },
        "output": output,
    });
    if body["event"]["type"] == "AudioPlayer.PlaybackFinished" {
        let mut stream = json!({
            "url": "https://cdn.example.com/next.mp3",
            "offsetInMilliseconds": 0,
            "token": "next-track",
        });
        if broken == B::BadDirective {
            stream["offsetInMilliseconds"] = json!("0");
            stream.as_object_mut().unwrap().remove("token");
        }
        response["directives"] =
            json!([{ "type": "AudioPlayer.Play", "audioItem": { "stream": stream } }]);
    }
    answer(StatusCode::OK, response)
}

/// Runs `nugu-check` with `args`, in a blocking task (it is a process).
async fn nugu_check(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_nugu-check"))
            .args(args)
            .env_remove("NUGU_API_KEY")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The usual command against the fixture, with `extra` arguments.
fn args(fixture: &Fixture, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        fixture.url.clone(),
        "--cacert".to_owned(),
        fixture.cacert.display().to_string(),
        "--api-key".to_owned(),
        KEY.to_owned(),
        "--action".to_owned(),
        "check_in".to_owned(),
        "--param".to_owned(),
        "place=lobby".to_owned(),
        "--param".to_owned(),
        "checkInTime=".to_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The JSON report of a run: (exit code, ids of failed rules, the report).
async fn run(fixture: &Fixture, extra: &[&str]) -> (Option<i32>, BTreeSet<String>, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut extra = extra.to_vec();
    let json_arg = json.display().to_string();
    extra.extend(["--json", &json_arg]);
    let output = nugu_check(args(fixture, &extra)).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&json)
            .unwrap_or_else(|e| panic!("no JSON report ({e}): {output:?}")),
    )
    .unwrap();
    let failed = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    (output.status.code(), failed, report, stdout)
}

fn evidence<'a>(report: &'a Value, id: &str) -> Vec<&'a str> {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_proxy_that_keeps_every_rule_passes_with_exit_0() {
    let fixture = fixture(Break::None).await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let junit_arg = junit.display().to_string();
    let (code, failed, report, stdout) = run(&fixture, &["--junit", &junit_arg]).await;
    assert_eq!(failed, BTreeSet::new(), "{stdout}");
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(report["counts"]["skipped"], 0, "{stdout}");
    assert_eq!(report["burst"]["count"], 200);
    assert!(
        stdout.contains(" passed, 0 failed, 0 skipped\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nslowest: "), "{stdout}");
    assert!(stdout.contains("\nburst: 200 requests, p50 "), "{stdout}");
    let junit = std::fs::read_to_string(junit).unwrap();
    assert!(junit.contains("failures=\"0\""), "{junit}");
}

/// Each break, the one rule it must fail (or, for a broken docs request, the rules that
/// need it answered), and a piece of the evidence.
#[tokio::test]
async fn each_broken_rule_fails_alone_with_its_evidence() {
    use Break as B;
    let skip_burst = ["--skip", "burst"];
    let cases: &[(Break, &[&str], &[&str], &str)] = &[
        (
            B::PlainHttp,
            &skip_burst,
            &["plain-http-refused"],
            "answered 401 Unauthorized over plain HTTP",
        ),
        (
            B::NoHealth,
            &skip_burst,
            &["health"],
            "GET /nugu/health: 404",
        ),
        (
            B::DocsRequest500,
            &[],
            &[
                "http-200-json",
                "oversized-body",
                "content-type",
                "method",
                "burst",
            ],
            "check_in/docs: HTTP 500",
        ),
        (
            B::Slow,
            &["--skip", "burst", "--timeout", "0.4"],
            &["latency"],
            "check_in/PlaybackStarted: ",
        ),
        (
            B::HangsOnEvents,
            &["--skip", "burst", "--timeout", "0.3"],
            &["audio-events", "latency"],
            "check_in/PlaybackStarted: no answer in time",
        ),
        (
            B::BadVersion,
            &skip_burst,
            &["version"],
            "$.version is \"1.0\"",
        ),
        (
            B::EmptyResultCode,
            &skip_burst,
            &["result-code"],
            "$.resultCode is \"\"",
        ),
        (
            B::NoEcho,
            &skip_burst,
            &["output-echo"],
            "missing $.output.place, $.output.checkInTime",
        ),
        (
            B::TypeValueOutput,
            &skip_burst,
            &["output-values"],
            "$.output.place is {\"type\":null,\"value\":\"lobby\"}",
        ),
        (
            B::BadDirective,
            &skip_burst,
            &["directives"],
            "audioItem.stream.token is not a non-empty string",
        ),
        (
            B::AcceptsAnyKey,
            &skip_burst,
            &["auth"],
            "with a wrong API key: 200 OK (not 401)",
        ),
        (
            B::EchoesPhoneInError,
            &skip_burst,
            &["no-personal-data-in-errors"],
            "the 401 Unauthorized answer holds the request's phoneNo",
        ),
        (
            B::NullContext500,
            &skip_burst,
            &["tolerance"],
            "check_in/null-context: HTTP 500",
        ),
        (
            B::RefusesPlayBuilder,
            &skip_burst,
            &["play-builder"],
            "check_in/play-builder: HTTP 401",
        ),
        (
            B::NoEnrolledUser500,
            &skip_burst,
            &["private-play"],
            "check_in/no-enrolled-user: HTTP 500",
        ),
        (
            B::Events500,
            &skip_burst,
            &["audio-events"],
            "check_in/PlaybackFailed: HTTP 500",
        ),
        (
            B::UnknownAction404,
            &skip_burst,
            &["unknown-action"],
            "nugu_check_undefined_action/docs: HTTP 404",
        ),
        (
            B::AcceptsAnySize,
            &skip_burst,
            &["oversized-body"],
            "with a 1 MiB body: 200 OK (not 4xx)",
        ),
        (
            B::AcceptsAnyContentType,
            &skip_burst,
            &["content-type"],
            "Content-Type: text/plain: 200 OK (not 4xx)",
        ),
        (
            B::AcceptsAnyMethod,
            &skip_burst,
            &["method"],
            "GET /nugu/check_in: 200 OK (not 4xx)",
        ),
        (B::BurstLimit, &[], &["burst"], "503 Service Unavailable"),
    ];
    // A few at a time: each run is a process and a server.
    for chunk in cases.chunks(5) {
        let runs = chunk
            .iter()
            .map(|(broken, extra, expected, needle)| async move {
                let fixture = fixture(*broken).await;
                let (code, failed, report, stdout) = run(&fixture, extra).await;
                let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
                assert_eq!(failed, expected, "{broken:?}:\n{stdout}");
                assert_eq!(code, Some(1), "{broken:?}:\n{stdout}");
                let first = expected.iter().next().unwrap();
                let all: Vec<&str> = expected
                    .iter()
                    .flat_map(|id| evidence(&report, id))
                    .collect();
                assert!(
                    all.iter().any(|e| e.contains(needle)),
                    "{broken:?}: no evidence with {needle:?} in {all:#?}"
                );
                assert!(
                    stdout.contains(&format!("FAIL  {first}")),
                    "{broken:?}:\n{stdout}"
                );
                assert!(!stdout.contains("01055501234"), "{broken:?}:\n{stdout}");
                assert!(!report.to_string().contains("01055501234"), "{broken:?}");
            });
        futures_util::future::join_all(runs).await;
    }
}

#[tokio::test]
async fn a_certificate_not_trusted_fails_https_and_skips_the_rest() {
    let fixture = fixture(Break::None).await;
    let output = nugu_check(vec![
        fixture.url.clone(),
        "--api-key".to_owned(),
        KEY.to_owned(),
        "--action".to_owned(),
        "check_in".to_owned(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  https "), "{stdout}");
    assert!(stdout.contains("UnknownIssuer"), "{stdout}");
    assert!(stdout.contains("1 failed, 20 skipped"), "{stdout}");
    assert!(
        stdout.contains("[no HTTPS connection to the proxy]"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_plain_http_url_fails_https_without_sending() {
    let output = nugu_check(vec![
        "http://127.0.0.1:9/nugu".to_owned(),
        "--no-auth-expected".to_owned(),
        "--action".to_owned(),
        "check_in".to_owned(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("NUGU calls Private Plays over https:// only"),
        "{stdout}"
    );
}

#[tokio::test]
async fn usage_errors_exit_2_with_a_reason() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["https://localhost/nugu", "--action", "check_in"],
            "give --api-key",
        ),
        (
            &["https://localhost/nugu", "--api-key", "k"],
            "no action to call",
        ),
        (
            &[
                "https://localhost/nugu",
                "--api-key",
                "k",
                "--action",
                "a b",
            ],
            "URL path segment",
        ),
        (
            &[
                "https://localhost/nugu",
                "--api-key",
                "k",
                "--action",
                "a",
                "--skip",
                "nope",
            ],
            "no such rule",
        ),
        (
            &[
                "https://localhost/nugu",
                "--api-key",
                "k",
                "--action",
                "a",
                "--cacert",
                "/nonexistent.pem",
            ],
            "cannot read --cacert",
        ),
        (
            &["ftp://localhost/", "--api-key", "k", "--action", "a"],
            "not http(s)",
        ),
    ];
    for (args, needle) in cases {
        let output = nugu_check(args.iter().map(|s| s.to_string()).collect()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

/// A play file gives the actions; `Path` keeps the fixture's directory alive.
#[tokio::test]
async fn a_play_file_lists_the_actions() {
    let fixture = fixture(Break::NoEcho).await;
    let dir = tempfile::tempdir().unwrap();
    let play: &Path = &dir.path().join("play.toml");
    std::fs::write(
        play,
        "[[action]]\nname = \"check_in\"\nutterance = \"출근\"\nparameters = { floor = \"3\" }\nbackend_parameters = [\"seat\"]\n",
    )
    .unwrap();
    let mut args = args(&fixture, &[]);
    args.truncate(5); // URL, --cacert, --api-key: no --action
    args.extend(["--play", &play.display().to_string(), "--skip", "burst"].map(String::from));
    let output = nugu_check(args).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("missing $.output.floor, $.output.seat"),
        "{stdout}"
    );
}
