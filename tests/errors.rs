//! Library errors in library terms: messages name builder methods and values (never an
//! example's command-line flags), and an error with a source leaves the source's text to the
//! source, so a printed chain (`anyhow`'s `{:#}`, a logger walking `source()`) says each thing
//! once.

#![cfg(feature = "server")]

use std::error::Error;
use std::path::PathBuf;

use nugu_proxy::server::{PemKind, Server, StartupError, TlsConfig};

/// Each level of the chain, as `Display` prints it.
fn chain(error: &dyn Error) -> Vec<String> {
    let mut levels = vec![error.to_string()];
    let mut next = error.source();
    while let Some(source) = next {
        levels.push(source.to_string());
        next = source.source();
    }
    levels
}

/// No level repeats the text of a level below it.
fn assert_said_once(error: &dyn Error) {
    let levels = chain(error);
    assert!(levels.len() > 1, "{levels:?} has no source to check");
    for (i, upper) in levels.iter().enumerate() {
        for lower in &levels[i + 1..] {
            assert!(
                !upper.contains(lower.as_str()),
                "{upper:?} repeats its source {lower:?}"
            );
        }
    }
}

#[test]
fn an_unreadable_certificate_names_the_file_once_and_leaves_the_reason_to_its_source() {
    let missing = PathBuf::from("/nonexistent/nugu-proxy/cert.pem");
    let Err(error) = TlsConfig::from_pem_files(&missing, "/nonexistent/nugu-proxy/key.pem") else {
        panic!("no such file");
    };
    assert!(matches!(error, StartupError::ReadPem { .. }), "{error:?}");
    assert!(error
        .to_string()
        .contains("/nonexistent/nugu-proxy/cert.pem"));
    assert_said_once(&error);
    let reason = error.source().unwrap().to_string();
    assert!(reason.contains("No such file"), "{reason}");
}

#[tokio::test]
async fn a_taken_port_says_so_once() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tls = TlsConfig::from_pem(
        made.cert.pem().as_bytes(),
        made.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let Err(error) = Server::builder()
        .tls(tls)
        .bind(held.local_addr().unwrap())
        .await
    else {
        panic!("the port is taken");
    };
    assert!(matches!(error, StartupError::Bind { .. }), "{error:?}");
    assert_said_once(&error);
}

#[cfg(feature = "biz")]
#[tokio::test]
async fn a_biz_connection_failure_says_so_once() {
    use nugu_proxy::biz::{BizClient, Page, PublisherToken, RetryPolicy};

    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = BizClient::builder(PublisherToken::new("token"))
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.list_groups(Page::first()).await.unwrap_err();
    assert_said_once(&error);
}

#[test]
fn startup_errors_speak_of_the_library_not_of_an_example_s_flags() {
    let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
    let every = [
        StartupError::MissingTlsMaterial {
            missing: PemKind::PrivateKey,
        },
        StartupError::MissingTlsMaterial {
            missing: PemKind::Certificate,
        },
        StartupError::ReadPem {
            what: PemKind::Certificate,
            path: "/etc/nugu/cert.pem".into(),
            source: io(),
        },
        StartupError::MissingPem {
            what: PemKind::Certificate,
            origin: "<memory>".into(),
        },
        StartupError::MissingPem {
            what: PemKind::PrivateKey,
            origin: "<memory>".into(),
        },
        StartupError::MalformedPem {
            what: PemKind::PrivateKey,
            origin: "<memory>".into(),
            reason: "bad base64".into(),
        },
        StartupError::KeyMismatch,
        StartupError::CertificateNotValidNow {
            not_before: "a".into(),
            not_after: "b".into(),
            expired: true,
        },
        StartupError::CertificateNotValidNow {
            not_before: "a".into(),
            not_after: "b".into(),
            expired: false,
        },
        StartupError::PublicUrlNotHttps {
            url: "http://x".into(),
        },
        StartupError::MalformedPublicUrl { url: "x".into() },
        StartupError::BadListenAddress {
            addr: "http://0.0.0.0:80".into(),
            plain_http: true,
        },
        StartupError::BadListenAddress {
            addr: "x".into(),
            plain_http: false,
        },
        StartupError::NoTrustedProxies,
        StartupError::BadTrustedProxy { entry: "x".into() },
        StartupError::NoFilesToReload,
        StartupError::Tls("refused".into()),
        StartupError::Bind {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: io(),
        },
    ];
    for error in every {
        let message = error.to_string();
        // `--cert`, `--trusted-proxy`...; PEM's `-----BEGIN` is not a flag.
        let flag = message
            .match_indices("--")
            .any(|(at, _)| message[at + 2..].starts_with(|c: char| c.is_ascii_lowercase()));
        assert!(!flag, "{message:?} names a command-line flag");
        if error.source().is_some() {
            assert_said_once(&error);
        }
    }
    let message = StartupError::BadListenAddress {
        addr: "http://0.0.0.0:80".into(),
        plain_http: true,
    }
    .to_string();
    assert!(message.contains("behind_tls_terminator"), "{message}");
}

/// Issue 22 item 5: `Debug` is what `main` prints for an error it returns (`Error: {e:?}`), and
/// what `{:?}` in a log shows. Every error of the crate's prints its message there, not its
/// fields, and so nothing its message leaves out (personal data, keys, the body's values).
#[test]
fn every_error_s_debug_is_its_message() {
    use nugu_proxy::rejection::{MalformedRequest, PayloadTooLarge, PrivatePlayRejection};
    use nugu_proxy::ActionRequest;

    let parse = ActionRequest::from_bytes(
        r#"{"action":{"actionName":"a"},"profile":{"privatePlay":{"userKey":"u","deviceKey":"d",
        "enrolledUser":{"name":"홍길동","phoneNo":1011112222}}}}"#
            .into(),
    )
    .unwrap_err();
    let rejection = PrivatePlayRejection::from(MalformedRequest::from(parse.clone()));
    let api_key = nugu_proxy::ApiKey::new("a secret with spaces").unwrap_err();
    let errors: [&dyn Error; 4] = [&parse, &rejection, &PayloadTooLarge::new(65_536), &api_key];
    for error in errors {
        let debug = format!("{error:?}");
        assert_eq!(debug, error.to_string());
        assert!(
            !debug.contains("1011112222") && !debug.contains("secret"),
            "{debug}"
        );
    }
    #[cfg(feature = "biz")]
    {
        let policy = nugu_proxy::biz::LinkPolicy::new(["nugu.example"]);
        let link = policy
            .parse_query(
                "status=s&email=hong%40example.com&callBack=https%3A%2F%2Fevil.example%2Fcb",
            )
            .unwrap_err();
        assert_eq!(format!("{link:?}"), link.to_string());
        assert!(!format!("{link:?}").contains("hong"));
    }
}

/// Issue 22 item 8: serving an axum `Router` that still needs `with_state` said only that
/// "`Router<u32>: ProxyService` is not satisfied". The error names the usual causes. This
/// compiles a small program with `rustc` against the crate this test was built with (the
/// `compile_fail` doc test on `ProxyService` keeps that it does not compile; this keeps what
/// the error says).
#[cfg(feature = "axum")]
#[test]
fn serving_a_router_that_needs_its_state_names_with_state() {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    // Every build of a crate that this target directory holds, newest first: the test uses the
    // pair that compiles together with this test's dependencies.
    let builds = |name: &str| {
        let mut found: Vec<_> = std::fs::read_dir(&deps)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let file = path.file_name().unwrap().to_string_lossy();
                file.starts_with(&format!("lib{name}-")) && file.ends_with(".rlib")
            })
            .collect();
        found.sort_by_key(|path| std::cmp::Reverse(path.metadata().unwrap().modified().unwrap()));
        found
    };
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("needs_state.rs");
    std::fs::write(
        &program,
        "pub async fn run(server: nugu_proxy::server::Server) {\n\
         \x20   let app: axum::Router<u32> = axum::Router::new();\n\
         \x20   server.serve(app).await;\n\
         }\n",
    )
    .unwrap();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut tried = Vec::new();
    for nugu in builds("nugu_proxy") {
        for axum in builds("axum") {
            let output = std::process::Command::new(&rustc)
                .args([
                    "--edition",
                    "2021",
                    "--crate-type",
                    "lib",
                    "--emit=metadata",
                ])
                .args(["--color", "never", "--out-dir"])
                .arg(dir.path())
                .arg("--extern")
                .arg(format!("nugu_proxy={}", nugu.display()))
                .arg("--extern")
                .arg(format!("axum={}", axum.display()))
                .arg("-L")
                .arg(format!("dependency={}", deps.display()))
                .arg(&program)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            // Another build's crates: not the pair this test was built with.
            if stderr.contains("multiple different versions of crate") || !stderr.contains("E0277")
            {
                tried.push(stderr);
                continue;
            }
            assert!(!output.status.success());
            assert!(
                stderr.contains("error[E0277]: `Router<u32>` is not a service the server can run"),
                "{stderr}"
            );
            assert!(stderr.contains("call `.with_state(state)`"), "{stderr}");
            return;
        }
    }
    panic!("no build of nugu_proxy and axum here compiled together: {tried:#?}");
}

/// Issue 22 item 9: a layer mounted under another server (`axum::serve`) answers every request
/// `403 insecure_transport`; its message names the fix, not only the problem.
#[test]
fn insecure_transport_names_the_fix() {
    let message = nugu_proxy::rejection::InsecureTransport.to_string();
    for fix in [
        "nugu_proxy::server::Server",
        "behind_tls_terminator",
        "dangerous_allow_insecure_transport",
    ] {
        assert!(message.contains(fix), "{message:?} does not name {fix}");
    }
}
