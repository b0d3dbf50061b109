//! An attendance check-in Private Play, served over HTTPS only.
//!
//! ```sh
//! cargo run --example https_proxy
//! ```
//!
//! With no certificate given it makes a self-signed one for localhost, prints its SHA-256
//! fingerprint and a `curl` command that checks a sample enrolled user in.
//!
//! Flags (each also read from the environment variable in brackets):
//!
//! ```text
//! --listen ADDR         address to listen on, default 127.0.0.1:8443   [NUGU_LISTEN]
//! --cert FILE           PEM certificate chain, leaf first               [NUGU_CERT]
//! --key FILE            PEM private key of that certificate             [NUGU_KEY]
//! --api-key KEY         NUGU API key (NUGU developers > 내 정보 > API key) [NUGU_API_KEY]
//! --public-url URL      the https Web URL registered in Play Builder    [NUGU_PUBLIC_URL]
//! --trusted-proxy IPS   serve behind these TLS-terminating load balancers (comma-separated);
//!                       needs --public-url                               [NUGU_TRUSTED_PROXY]
//! ```
//!
//! Actions: `check_in` answers `resultCode: OK` with `output.userName` and
//! `output.checkInTime` (KST, first check-in of the day), or `NOT_ENROLLED` for a request
//! without an enrolled user. Any other action answers `UNKNOWN_ACTION`. `GET {prefix}/health`
//! answers `OK`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{
    parse_listen_addr, PemKind, PublicUrl, Server, ServerBuilder, StartupError, TlsConfig,
    TrustedProxies,
};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlay, PrivatePlayLayer};
use ring::rand::SecureRandom;

const USAGE: &str = "usage: https_proxy [--listen ADDR] [--cert FILE --key FILE] [--api-key KEY] \
                     [--public-url https://...] [--trusted-proxy IP[,IP...]]";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .init();
    // The standard panic hook prints a panic's message, which may quote a request's personal
    // data, to stderr. The server answers such a request 500 and goes on; log where, not what.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(ToString::to_string).unwrap_or_default();
        tracing::error!(%at, "a handler panicked (message withheld: it may hold personal data)");
    }));
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The options, from flags first, then environment variables.
#[derive(Default)]
struct Options {
    listen: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    api_key: Option<String>,
    public_url: Option<String>,
    trusted_proxy: Option<String>,
}

impl Options {
    fn parse() -> Result<Self, String> {
        let mut options = Options::default();
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let slot = match flag.as_str() {
                "--listen" => &mut options.listen,
                "--cert" => &mut options.cert,
                "--key" => &mut options.key,
                "--api-key" => &mut options.api_key,
                "--public-url" => &mut options.public_url,
                "--trusted-proxy" => &mut options.trusted_proxy,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            };
            *slot = Some(
                args.next()
                    .ok_or(format!("{flag} needs a value\n{USAGE}"))?,
            );
        }
        for (slot, var) in [
            (&mut options.listen, "NUGU_LISTEN"),
            (&mut options.cert, "NUGU_CERT"),
            (&mut options.key, "NUGU_KEY"),
            (&mut options.api_key, "NUGU_API_KEY"),
            (&mut options.public_url, "NUGU_PUBLIC_URL"),
            (&mut options.trusted_proxy, "NUGU_TRUSTED_PROXY"),
        ] {
            if slot.is_none() {
                *slot = std::env::var(var).ok().filter(|v| !v.is_empty());
            }
        }
        Ok(options)
    }
}

async fn run() -> Result<(), String> {
    let options = Options::parse()?;
    // Every check happens here, before anything is bound.
    let listen = parse_listen_addr(options.listen.as_deref().unwrap_or("127.0.0.1:8443"))
        .map_err(|e| e.to_string())?;
    let public_url = options
        .public_url
        .as_deref()
        .map(PublicUrl::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let (api_key, generated_key) = match options.api_key {
        Some(key) => (key, false),
        None => (random_hex(16)?, true),
    };
    let layer = PrivatePlayLayer::new(ApiKey::new(api_key.clone()).map_err(|e| e.to_string())?)
        .allow_play_builder_test_calls()
        .enrolled_users_only("NOT_ENROLLED");

    let (builder, self_signed) = match options.trusted_proxy {
        Some(proxies) => {
            if options.cert.is_some() || options.key.is_some() {
                return Err(
                    "--trusted-proxy serves behind a TLS-terminating load balancer, \
                            which holds the certificate: drop --cert/--key, or drop \
                            --trusted-proxy to terminate TLS here"
                        .to_owned(),
                );
            }
            let proxies: TrustedProxies =
                proxies.parse().map_err(|e: StartupError| e.to_string())?;
            let url = public_url.ok_or(
                "--trusted-proxy needs --public-url: the https Web URL NUGU calls on the load \
                 balancer",
            )?;
            println!(
                "behind a TLS terminator: accepting {:?} only, for {url}",
                proxies.addrs()
            );
            (Server::builder().behind_tls_terminator(proxies, url), None)
        }
        None => {
            let (builder, self_signed) = direct_tls(options.cert, options.key)?;
            match public_url {
                Some(url) => (builder.public_url(url), self_signed),
                None => (builder, self_signed),
            }
        }
    };

    let server = builder.bind(listen).await.map_err(|e| e.to_string())?;
    let addr = server.local_addr();
    println!("nugu-proxy check-in play listening on {addr}");
    if let Some(cert) = self_signed {
        cert.print_try_it(addr, generated_key.then_some(api_key.as_str()))?;
    }

    let attendance = Attendance::default();
    let play = tower::ServiceBuilder::new()
        .layer(layer)
        .service_fn(move |req| attendance.clone().handle(req));
    server.serve(play).await;
    Ok(())
}

/// Direct TLS with the given files, or with a fresh self-signed certificate for localhost.
fn direct_tls(
    cert: Option<String>,
    key: Option<String>,
) -> Result<(ServerBuilder, Option<SelfSigned>), String> {
    let missing = |missing| StartupError::MissingTlsMaterial { missing }.to_string();
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let tls = TlsConfig::from_pem_files(&cert, &key).map_err(|e| e.to_string())?;
            #[cfg(unix)]
            tokio::spawn(tls.reload_handle().reload_on_sighup());
            println!("TLS with {cert} (send SIGHUP to reload it)");
            Ok((Server::builder().tls(tls), None))
        }
        (Some(_), None) => Err(missing(PemKind::PrivateKey)),
        (None, Some(_)) => Err(missing(PemKind::Certificate)),
        (None, None) => {
            let made = rcgen::generate_simple_self_signed(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
            ])
            .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
            let cert_pem = made.cert.pem();
            let tls = TlsConfig::from_pem(
                cert_pem.as_bytes(),
                made.signing_key.serialize_pem().as_bytes(),
            )
            .map_err(|e| e.to_string())?;
            let fingerprint = ring::digest::digest(&ring::digest::SHA256, made.cert.der())
                .as_ref()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":");
            Ok((
                Server::builder().tls(tls),
                Some(SelfSigned {
                    cert_pem,
                    fingerprint,
                }),
            ))
        }
    }
}

/// The certificate made at startup when none was given.
struct SelfSigned {
    cert_pem: String,
    fingerprint: String,
}

impl SelfSigned {
    /// Saves the certificate for curl's `--cacert` and prints a command that checks in the
    /// sample user. `demo_key` is the API key generated for this run, if one was.
    fn print_try_it(&self, addr: SocketAddr, demo_key: Option<&str>) -> Result<(), String> {
        let file = std::env::temp_dir().join(format!("nugu-proxy-localhost-{}.pem", addr.port()));
        std::fs::write(&file, &self.cert_pem)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            addr.ip().to_string()
        };
        println!(
            "no --cert given: serving a self-signed certificate for localhost (saved to {})",
            file.display()
        );
        println!("SHA-256 fingerprint: {}", self.fingerprint);
        match demo_key {
            Some(_) => println!("no --api-key given: generated a demo API key for this run"),
            None => println!("API key from --api-key / NUGU_API_KEY"),
        }
        println!(
            "try it:\n\n  curl --cacert {file} https://{host}:{port}/check_in \\\n    \
             -H 'Content-Type: application/json' -H \"Authorization: token {token}\" \\\n    \
             -d '{SAMPLE_REQUEST}'\n",
            file = file.display(),
            port = addr.port(),
            token = demo_key.unwrap_or("$NUGU_API_KEY"),
        );
        Ok(())
    }
}

/// A NUGU action request with an enrolled user, as a real speaker sends it (sample data).
const SAMPLE_REQUEST: &str = r#"{"version":"2.0","action":{"actionName":"check_in","parameters":{}},"context":{"session":{"id":"demo","isNew":true},"device":{"type":"speaker.nugu.nu200"},"supportedInterfaces":null},"profile":{"privatePlay":{"userKey":"user.demo","deviceKey":"device.demo","enrolledUser":{"name":"홍길동","phoneNo":"01012345678","email":"gildong@example.com","tag":"E1234"}}}}"#;

fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| "the system random generator failed".to_owned())?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Today's check-ins, keyed by employee number (`tag`) or, without one, by `userKey`.
#[derive(Clone, Default)]
struct Attendance {
    first_check_in: Arc<Mutex<HashMap<(String, u64), String>>>,
}

impl Attendance {
    async fn handle(self, req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
        let extensions = req.extensions();
        let Some(action) = extensions.get::<ActionRequest>() else {
            // Not an action request (the layer passes other methods through).
            let mut response = Response::new(Full::new(Bytes::from_static(b"not found")));
            *response.status_mut() = http::StatusCode::NOT_FOUND;
            return Ok(response);
        };
        let response = match action.action_name() {
            "check_in" => match (
                extensions.get::<EnrolledUser>(),
                extensions.get::<PrivatePlay>(),
            ) {
                (Some(user), Some(play)) => {
                    let key = user.tag().unwrap_or(play.user_key()).to_owned();
                    let time = self.check_in(key);
                    // No personal data in logs, not even masked.
                    tracing::info!("checked in");
                    ActionResponse::from_request(action)
                        .output("userName", user.name())
                        .output("checkInTime", time)
                }
                // `enrolled_users_only` answers these before the handler; kept for clarity.
                _ => ActionResponse::from_request(action).exception("NOT_ENROLLED"),
            },
            _ => ActionResponse::from_request(action).exception("UNKNOWN_ACTION"),
        };
        Ok(response.into_http())
    }

    /// Records the first check-in of the (KST) day and returns its time, `HH:MM` KST.
    fn check_in(&self, key: String) -> String {
        let kst = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 9 * 3600;
        let (day, seconds) = (kst / 86_400, kst % 86_400);
        let now = format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60);
        self.first_check_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((key, day))
            .or_insert(now)
            .clone()
    }
}
