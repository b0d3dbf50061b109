//! The README's run command: `examples/https_proxy.rs`, run as a process, answering the `curl`
//! command it prints over real HTTPS on 127.0.0.1.
//!
//! `cargo test` builds examples before it runs tests; these tests run that binary.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{ChildStdout, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn example() -> Command {
    // target/debug/deps/example-<hash> -> target/debug/examples/https_proxy
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path: PathBuf = dir.join("examples").join("https_proxy");
    let built = std::fs::metadata(&path).and_then(|m| m.modified());
    let source = std::fs::metadata(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/https_proxy.rs"
    ))
    .and_then(|m| m.modified())
    .unwrap();
    assert!(
        built.is_ok_and(|built| built >= source),
        "{} is missing or older than its source: run `cargo test` without `--test`, which \
         builds the examples first",
        path.display()
    );
    let mut command = Command::new(path);
    for var in [
        "LISTEN",
        "CERT",
        "KEY",
        "API_KEY",
        "PUBLIC_URL",
        "TRUSTED_PROXY",
    ] {
        command.env_remove(format!("NUGU_{var}"));
    }
    command
}

fn refused(args: &[&str]) -> Output {
    let output = example().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    output
}

#[test]
fn plain_http_listen_or_public_url_exits_before_binding() {
    // A port this test holds: had the example tried to bind first, it would report that.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();

    let output = refused(&["--listen", &format!("http://127.0.0.1:{port}")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("asks for plain HTTP"), "{stderr}");

    let output = refused(&[
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--public-url",
        "http://proxy.example.com/nugu",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not https"), "{stderr}");
    assert!(!stderr.contains("cannot listen"), "{stderr}");
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let output = refused(&["--listen", "127.0.0.1:0", "--cert", "cert.pem"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no TLS private key was given"), "{stderr}");
}

/// What the example printed for the user to try.
struct TryIt {
    cacert: String,
    url: String,
    token: String,
    body: String,
}

/// Reads the example's stdout up to the end of the printed `curl` command.
fn read_try_it(stdout: ChildStdout) -> TryIt {
    let mut lines = BufReader::new(stdout).lines();
    let (mut cacert, mut url, mut token) = (None, None, None);
    let mut fingerprint = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let line = line.trim();
        fingerprint |= line.starts_with("SHA-256 fingerprint: ") && line.len() == 21 + 95;
        if let Some(rest) = line.strip_prefix("curl --cacert ") {
            let mut words = rest.split_whitespace();
            cacert = words.next().map(str::to_owned);
            url = words.next().map(str::to_owned);
        } else if let Some(rest) = line.split_once("Authorization: token ") {
            token = rest.1.split('"').next().map(str::to_owned);
        } else if let Some(rest) = line.strip_prefix("-d '") {
            assert!(fingerprint, "no SHA-256 fingerprint was printed");
            return TryIt {
                cacert: cacert.expect("the --cacert file"),
                url: url.expect("the URL"),
                token: token.expect("the API key"),
                body: rest.trim_end_matches('\'').to_owned(),
            };
        }
    }
    panic!("the example ended without printing a curl command");
}

#[tokio::test]
async fn runs_with_one_command_and_answers_the_curl_it_prints() {
    let mut child = example()
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let try_it = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || read_try_it(stdout)),
    )
    .await;
    let Ok(try_it) = try_it else {
        let _ = child.kill();
        panic!("the example printed no curl command within 30 s");
    };
    let try_it = try_it.unwrap();

    let uri: http::Uri = try_it.url.parse().unwrap();
    let authority = uri.authority().unwrap().as_str().to_owned();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&try_it.cacert).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(&authority).await.unwrap();
    let host = uri.host().unwrap().to_owned();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(host).unwrap(), tcp)
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);

    let request = Request::post(uri.path())
        .header("host", &authority)
        .header("content-type", "application/json")
        .header("authorization", format!("token {}", try_it.token))
        .body(Full::new(Bytes::from(try_it.body.clone())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["resultCode"], "OK", "{json}");
    assert_eq!(json["output"]["userName"], "홍길동");
    let time = json["output"]["checkInTime"].as_str().unwrap();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "checkInTime {time:?}"
    );

    let health = Request::get("/health")
        .header("host", &authority)
        .body(Full::default())
        .unwrap();
    let response = sender.send_request(health).await.unwrap();
    assert_eq!(response.status(), 200);

    // SIGTERM: a graceful shutdown, exit status 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}
