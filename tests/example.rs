//! The README's run commands: `examples/https_proxy.rs` and `examples/axum_play.rs`, run as
//! processes, answering the `curl` command they print over real HTTPS on 127.0.0.1, keeping
//! their check-ins across a restart, and keeping their self-signed certificate private.
//!
//! `cargo test` builds examples before it runs tests; these tests run that binary.

#![cfg(feature = "server")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use bytes::Bytes;
use common::client_config;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The `https_proxy` example, its database in `db`'s directory.
fn example(db: &tempfile::TempDir) -> Command {
    example_named("https_proxy", db)
}

fn example_named(name: &str, db: &tempfile::TempDir) -> Command {
    let mut command = example_bare(name);
    command
        .arg("--db")
        .arg(db.path().join("attendance.sqlite3"));
    command
}

/// The example `name`, with none of the `NUGU_` variables of this environment.
fn example_bare(name: &str) -> Command {
    // target/debug/deps/example-<hash> -> target/debug/examples/https_proxy
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path: PathBuf = dir.join("examples").join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified());
    // The example's own file and the support module the examples share.
    let examples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"));
    let support = std::fs::read_dir(examples.join("support"))
        .unwrap()
        .map(|entry| entry.unwrap().path());
    let source = std::iter::once(examples.join(format!("{name}.rs")))
        .chain(support)
        .map(|file| std::fs::metadata(file).and_then(|m| m.modified()).unwrap())
        .max()
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
        "DB",
        "ACME_DOMAIN",
        "ACME_CONTACT",
        "ACME_DIRECTORY",
        "ACME_CA_ROOT",
        "ACME_CACHE",
    ] {
        command.env_remove(format!("NUGU_{var}"));
    }
    command
}

fn refused(args: &[&str]) -> Output {
    let db = tempfile::tempdir().unwrap();
    let output = example(&db).args(args).output().unwrap();
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

/// A full TLS handshake (no resumption) trusting `roots`, then HTTP/1.1: the sender and the
/// certificate the server presented.
async fn connect(
    authority: &str,
    host: &str,
    roots: &[CertificateDer<'static>],
) -> (Sender, CertificateDer<'static>) {
    let roots: Vec<_> = roots.iter().collect();
    let tcp = TcpStream::connect(authority).await.unwrap();
    let tls = TlsConnector::from(client_config(&roots, &[]))
        .connect(ServerName::try_from(host.to_owned()).unwrap(), tcp)
        .await
        .unwrap();
    let presented = tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    (sender, presented)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn health(sender: &mut Sender, authority: &str) -> http::StatusCode {
    let request = Request::get("/health")
        .header("host", authority)
        .body(Full::default())
        .unwrap();
    sender.send_request(request).await.unwrap().status()
}

/// A running example, killed if the test fails before it is terminated.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends SIGTERM and expects a graceful exit (status 0).
async fn terminate(mut running: Running) {
    let mut child = running.0.take().expect("still running");
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

/// Starts the example `name` with `args` and reads the `curl` command it prints.
async fn start(name: &str, db: &tempfile::TempDir, args: &[&str]) -> (Running, TryIt) {
    let mut child = example_named(name, db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(Some(child));
    let try_it = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || read_try_it(stdout)),
    )
    .await
    .unwrap_or_else(|_| panic!("{name} printed no curl command within 30 s"));
    (running, try_it.unwrap())
}

/// Runs the printed `curl` command (over one connection, then checks the health endpoint on
/// it): the NUGU answer.
async fn run_try_it(try_it: &TryIt) -> Value {
    let uri: http::Uri = try_it.url.parse().unwrap();
    let authority = uri.authority().unwrap().as_str().to_owned();
    let roots: Vec<_> = CertificateDer::pem_file_iter(&try_it.cacert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let (mut sender, _) = connect(&authority, uri.host().unwrap(), &roots).await;

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
    // The health check under the same prefix as the action.
    let prefix = uri.path().rsplit_once('/').map_or("", |(prefix, _)| prefix);
    let request = Request::get(format!("{prefix}/health"))
        .header("host", &authority)
        .body(Full::default())
        .unwrap();
    assert_eq!(sender.send_request(request).await.unwrap().status(), 200);
    json
}

/// The README's ACME command against a local Pebble (what `scripts/pebble` runs): the example
/// obtains a certificate by TLS-ALPN-01 before it says it listens, and a client that trusts
/// Pebble's root gets its health check.
#[cfg(feature = "acme")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_with_acme_domain_against_a_local_pebble() {
    use common::pebble::{free_port, Pebble, DOMAIN};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let pebble = Pebble::start(dir.path(), port, Duration::from_secs(3600)).await;
    let listen = format!("127.0.0.1:{port}");
    let cache = dir.path().join("acme");
    let mut child = example(&dir)
        .args(["--listen", &listen, "--acme-domain", DOMAIN])
        .args(["--acme-contact", "ops@nugu.test"])
        .args(["--acme-directory", &pebble.directory])
        .arg("--acme-ca-root")
        .arg(&pebble.https_root)
        .arg("--acme-cache")
        .arg(&cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(Some(child));
    let listening = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("listening on"))
    });
    let listening = tokio::time::timeout(Duration::from_secs(90), listening)
        .await
        .expect("the example obtained a certificate and listened within 90 s")
        .unwrap();
    assert!(listening, "the example ended before listening");
    let (mut sender, _) =
        connect(&listen, DOMAIN, std::slice::from_ref(&pebble.issuing_root)).await;
    assert_eq!(health(&mut sender, DOMAIN).await, 200);
    terminate(running).await;
}

#[tokio::test]
async fn runs_with_one_command_and_answers_the_curl_it_prints() {
    for name in ["https_proxy", "axum_play"] {
        let db = tempfile::tempdir().unwrap();
        let (child, try_it) = start(name, &db, &["--listen", "127.0.0.1:0"]).await;
        let json = run_try_it(&try_it).await;
        assert_eq!(json["resultCode"], "OK", "{name}: {json}");
        assert_eq!(json["output"]["userName"], "홍길동");
        let time = json["output"]["checkInTime"].as_str().unwrap();
        assert!(
            time.len() == 5 && time.as_bytes()[2] == b':',
            "checkInTime {time:?}"
        );
        terminate(child).await;
    }
}

#[tokio::test]
async fn the_plays_answer_under_the_public_url_s_path() {
    for name in ["https_proxy", "axum_play"] {
        let db = tempfile::tempdir().unwrap();
        let args = [
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://localhost/nugu",
        ];
        let (child, try_it) = start(name, &db, &args).await;
        assert!(try_it.url.ends_with("/nugu/check_in"), "{}", try_it.url);
        let json = run_try_it(&try_it).await;
        assert_eq!(json["resultCode"], "OK", "{name}: {json}");

        // A speaker without an enrolled user: the layer answers, and names the play's backend
        // parameters as the handler's answers do.
        let mut stranger: Value = serde_json::from_str(&try_it.body).unwrap();
        stranger["profile"]["privatePlay"]
            .as_object_mut()
            .unwrap()
            .remove("enrolledUser");
        let stranger = TryIt {
            cacert: try_it.cacert.clone(),
            url: try_it.url.clone(),
            token: try_it.token.clone(),
            body: stranger.to_string(),
        };
        let json = run_try_it(&stranger).await;
        assert_eq!(json["resultCode"], "NOT_ENROLLED", "{name}: {json}");
        assert_eq!(
            json["output"],
            serde_json::json!({"userName": null, "checkInTime": null}),
            "{name}"
        );

        let other = TryIt {
            url: try_it.url.replace("/check_in", "/other"),
            body: try_it
                .body
                .replace(r#""actionName":"check_in""#, r#""actionName":"other""#),
            ..try_it
        };
        let json = run_try_it(&other).await;
        assert_eq!(json["resultCode"], "UNKNOWN_ACTION", "{name}: {json}");
        terminate(child).await;
    }
}

#[tokio::test]
async fn a_restart_keeps_the_check_ins() {
    let db = tempfile::tempdir().unwrap();
    let file = db.path().join("attendance.sqlite3");
    let (child, try_it) = start("https_proxy", &db, &["--listen", "127.0.0.1:0"]).await;
    let first = run_try_it(&try_it).await;
    assert_eq!(first["resultCode"], "OK", "{first}");
    terminate(child).await;

    // The check-in is on disk, under the sample user's employee number. Move it to a time no
    // clock shows now, so that the answer after the restart can only come from the file.
    let stored = rusqlite::Connection::open(&file).unwrap();
    let time: String = stored
        .query_row(
            "SELECT time FROM check_ins WHERE who = 'E1234'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(first["output"]["checkInTime"], time.as_str());
    stored
        .execute(
            "UPDATE check_ins SET time = '99:99' WHERE who = 'E1234'",
            [],
        )
        .unwrap();
    drop(stored);

    for name in ["https_proxy", "axum_play"] {
        let (child, try_it) = start(name, &db, &["--listen", "127.0.0.1:0"]).await;
        let again = run_try_it(&try_it).await;
        assert_eq!(again["resultCode"], "OK", "{again}");
        assert_eq!(
            again["output"]["checkInTime"], "99:99",
            "{name} did not find the earlier check-in"
        );
        terminate(child).await;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the database holds employee numbers");
    }
}

/// Finding 9 of the security review: the self-signed certificate went to a predictable path in
/// the shared temporary directory, through any symlink planted there.
#[cfg(unix)]
#[tokio::test]
async fn the_self_signed_certificate_is_saved_privately_and_never_through_a_symlink() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    // What an attacker would plant at the old predictable path of this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let attacker = tempfile::tempdir().unwrap();
    let target = attacker.path().join("written-through-the-symlink");
    let planted = std::env::temp_dir().join(format!("nugu-proxy-localhost-{port}.pem"));
    let _ = std::fs::remove_file(&planted);
    std::os::unix::fs::symlink(&target, &planted).unwrap();

    let db = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let (child, try_it) = start("https_proxy", &db, &["--listen", &listen]).await;
    let cacert = PathBuf::from(&try_it.cacert);
    let written_through = target.exists();
    let _ = std::fs::remove_file(&planted);
    assert!(
        !written_through,
        "the certificate was written through a symlink"
    );
    let file = std::fs::symlink_metadata(&cacert).unwrap();
    assert!(file.file_type().is_file());
    assert_eq!(
        file.permissions().mode() & 0o777,
        0o600,
        "{}",
        cacert.display()
    );
    let dir = cacert.parent().unwrap();
    let meta = std::fs::symlink_metadata(dir).unwrap();
    assert!(meta.file_type().is_dir(), "{}", dir.display());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o700,
        "{}",
        dir.display()
    );
    assert_eq!(meta.uid(), file.uid());
    assert_eq!(run_try_it(&try_it).await["resultCode"], "OK");
    terminate(child).await;
    assert!(
        !cacert.parent().unwrap().exists(),
        "the certificate's directory outlived the example"
    );
}

#[tokio::test]
async fn sighup_reloads_the_certificate_files_and_keeps_open_connections() {
    let make = || {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (
            made.cert.pem(),
            made.signing_key.serialize_pem(),
            made.cert.der().clone(),
        )
    };
    let (old, new) = (make(), make());
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let install = |(cert, key, _): &(String, String, CertificateDer<'static>)| {
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
    };
    install(&old);

    let db = tempfile::tempdir().unwrap();
    let mut child = example(&db)
        .args(["--listen", "127.0.0.1:0", "--api-key", "k", "--cert"])
        .arg(&cert_path)
        .arg("--key")
        .arg(&key_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let child = Running(Some(child));
    let listening = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| {
                    line.strip_prefix("nugu-proxy check-in play listening on ")
                        .map(str::to_owned)
                })
        }),
    )
    .await;
    let Ok(Ok(Some(authority))) = listening else {
        panic!("the example did not say where it listens");
    };
    let trusted = [old.2.clone(), new.2.clone()];

    let (mut open, presented) = connect(&authority, "localhost", &trusted).await;
    assert_eq!(presented, old.2);
    assert_eq!(health(&mut open, &authority).await, 200);

    install(&new);
    let hup = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let mut reloaded = false;
    for _ in 0..100 {
        if connect(&authority, "localhost", &trusted).await.1 == new.2 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "SIGHUP did not bring in the new certificate");
    assert_eq!(
        health(&mut open, &authority).await,
        200,
        "the open connection was dropped"
    );

    terminate(child).await;
}

/// `nugu-check` (feature `check`) against both examples: every rule passes, exit status 0.
#[cfg(feature = "check")]
#[tokio::test]
async fn nugu_check_passes_every_rule_against_the_examples() {
    for (name, public_url) in [
        ("https_proxy", None),
        ("axum_play", Some("https://localhost/nugu")),
    ] {
        let db = tempfile::tempdir().unwrap();
        let mut args = vec!["--listen", "127.0.0.1:0"];
        if let Some(url) = public_url {
            args.extend(["--public-url", url]);
        }
        let (child, try_it) = start(name, &db, &args).await;
        let web_url = try_it.url.trim_end_matches("/check_in").to_owned();
        let report = db.path().join("report.json");
        let mut check = Command::new(env!("CARGO_BIN_EXE_nugu-check"));
        check
            .arg(&web_url)
            .args(["--cacert", &try_it.cacert, "--api-key", &try_it.token])
            .args([
                "--action",
                "check_in",
                "--param",
                "place=lobby",
                "--param",
                "memo=",
            ])
            .arg("--json")
            .arg(&report)
            .env_remove("NUGU_API_KEY");
        let output = tokio::task::spawn_blocking(move || check.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{name}:\n{stdout}");
        assert!(
            stdout.contains(" passed, 0 failed, 0 skipped\n"),
            "{name}:\n{stdout}"
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(report["passed"], true, "{name}: {report}");
        assert_eq!(report["burst"]["count"], 200, "{name}: {report}");
        terminate(child).await;
    }
}

/// Issue 22 item 4: `kill -HUP` ended a server the application had not wired for reload. A
/// server with an in-memory (here self-signed) certificate has nothing to reload: it ignores the
/// signal and goes on serving.
#[cfg(unix)]
#[tokio::test]
async fn sighup_is_ignored_by_a_server_with_an_in_memory_certificate() {
    let db = tempfile::tempdir().unwrap();
    let (mut child, try_it) = start("https_proxy", &db, &["--listen", "127.0.0.1:0"]).await;
    assert_eq!(run_try_it(&try_it).await["resultCode"], "OK");
    let pid = child.0.as_ref().unwrap().id().to_string();
    for _ in 0..3 {
        let hup = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(hup.success());
    }
    // A process the signal ended has exited by the time its answer would come.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let exited = child.0.as_mut().unwrap().try_wait().unwrap();
    assert!(exited.is_none(), "SIGHUP ended the server: {exited:?}");
    assert_eq!(run_try_it(&try_it).await["resultCode"], "OK");
    terminate(child).await;
}

/// Issue 22 item 5: a `main` returning the crate's errors with `?` printed their derived
/// `Debug` (`Error: ReadPem { what: Certificate, path: ..., source: Os { code: 2, ... } }`).
/// It prints the message and its causes, as error-reporting crates do.
#[test]
fn a_main_returning_a_startup_error_prints_its_message_and_causes() {
    let stderr = |command: &mut Command| {
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        String::from_utf8(output.stderr).unwrap()
    };

    let missing = stderr(example_bare("direct_tls").args([
        "/nonexistent/nugu-proxy/cert.pem",
        "/nonexistent/nugu-proxy/key.pem",
    ]));
    assert_eq!(
        missing,
        "Error: cannot read the TLS certificate file /nonexistent/nugu-proxy/cert.pem; check \
         the path and that this process may read it\n\nCaused by:\n    No such file or \
         directory (os error 2)\n"
    );

    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();

    // A refused API key is not quoted, in `Debug` either.
    let secret = "not a header value";
    let invalid_key = stderr(
        example_bare("direct_tls")
            .arg(&cert)
            .arg(&key)
            .env("NUGU_API_KEY", secret),
    );
    assert_eq!(
        invalid_key,
        "Error: the NUGU API key must be non-empty visible ASCII without spaces\n"
    );

    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().to_string();
    let port_taken = stderr(
        example_bare("direct_tls")
            .arg(&cert)
            .arg(&key)
            .arg(&taken)
            .env("NUGU_API_KEY", "k"),
    );
    // The OS's words for a taken port vary by system.
    let message = format!(
        "Error: cannot listen on {taken}; pick a free port or an address of this host\n\n\
         Caused by:\n    "
    );
    assert!(
        port_taken.starts_with(&message) && !port_taken[message.len()..].trim_end().contains('\n'),
        "{port_taken}"
    );
}
