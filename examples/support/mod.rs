//! What the example plays share: the command line, the check-in store, the self-signed
//! certificate and the startup. Each example brings only its handlers (`https_proxy`: tower,
//! `axum_play`: an axum `Router`).
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
//! --db FILE             the SQLite database of check-ins,
//!                       default nugu-proxy-attendance.sqlite3            [NUGU_DB]
//!
//! Automatic HTTPS (feature `acme`): a certificate from an ACME CA instead of --cert/--key
//! --acme-domain DOMAIN  the domain to get a certificate for (Let's Encrypt validates it
//!                       with TLS-ALPN-01 on this server's port: 443 must reach it)
//!                                                                        [NUGU_ACME_DOMAIN]
//! --acme-contact EMAIL  the CA's contact for expiry notices             [NUGU_ACME_CONTACT]
//! --acme-directory URL  the CA's directory, default Let's Encrypt production
//!                       (`staging` names Let's Encrypt's staging)      [NUGU_ACME_DIRECTORY]
//! --acme-ca-root FILE   the PEM root the directory's own HTTPS chains to (a private CA,
//!                       Pebble)                                         [NUGU_ACME_CA_ROOT]
//! --acme-cache DIR      the account key and certificates (0700), default nugu-proxy-acme
//!                                                                        [NUGU_ACME_CACHE]
//! ```

#![allow(dead_code)] // each example uses its own part

mod attendance;

use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nugu_proxy::server::{
    parse_listen_addr, PemKind, ProxyService, PublicUrl, Server, ServerBuilder, StartupError,
    TlsConfig, TrustedProxies,
};
use nugu_proxy::{ApiKey, Play, PrivatePlayLayer};
use ring::rand::SecureRandom;

pub use attendance::Attendance;

/// What a play's handlers need.
pub struct Setup {
    /// The layer to put in front of the handlers.
    pub layer: PrivatePlayLayer,
    /// The check-ins.
    pub attendance: Attendance,
    /// The path of the public URL (`/nugu`), or empty: NUGU calls `{prefix}/{actionName}`.
    pub path_prefix: String,
}

/// Runs the play `name` that `service` makes from the setup, until SIGTERM or Ctrl-C.
pub async fn main<S: ProxyService>(name: &str, service: impl FnOnce(Setup) -> S) -> ExitCode {
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
    match run(name, service).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: [--listen ADDR] [--cert FILE --key FILE] [--api-key KEY] \
                     [--public-url https://...] [--trusted-proxy IP[,IP...]] [--db FILE] \
                     [--acme-domain DOMAIN [--acme-contact EMAIL] [--acme-directory URL] \
                     [--acme-ca-root FILE] [--acme-cache DIR]]";

/// The options, from flags first, then environment variables.
#[derive(Default)]
struct Options {
    listen: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    api_key: Option<String>,
    public_url: Option<String>,
    trusted_proxy: Option<String>,
    db: Option<String>,
    acme: AcmeOptions,
}

/// The `--acme-*` flags.
#[derive(Default)]
struct AcmeOptions {
    domain: Option<String>,
    contact: Option<String>,
    directory: Option<String>,
    ca_root: Option<String>,
    cache: Option<String>,
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
                "--db" => &mut options.db,
                "--acme-domain" => &mut options.acme.domain,
                "--acme-contact" => &mut options.acme.contact,
                "--acme-directory" => &mut options.acme.directory,
                "--acme-ca-root" => &mut options.acme.ca_root,
                "--acme-cache" => &mut options.acme.cache,
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
            (&mut options.db, "NUGU_DB"),
            (&mut options.acme.domain, "NUGU_ACME_DOMAIN"),
            (&mut options.acme.contact, "NUGU_ACME_CONTACT"),
            (&mut options.acme.directory, "NUGU_ACME_DIRECTORY"),
            (&mut options.acme.ca_root, "NUGU_ACME_CA_ROOT"),
            (&mut options.acme.cache, "NUGU_ACME_CACHE"),
        ] {
            if slot.is_none() {
                *slot = std::env::var(var).ok().filter(|v| !v.is_empty());
            }
        }
        Ok(options)
    }
}

/// A library error, its sources, and the flag it is about: the library speaks of its builder
/// methods, the operator of this program knows its flags.
fn explain(error: StartupError) -> String {
    use StartupError as E;
    let flag = match &error {
        E::MissingTlsMaterial { .. } => Some("give both --cert FILE and --key FILE"),
        E::ReadPem { what, .. } | E::MissingPem { what, .. } | E::MalformedPem { what, .. } => {
            Some(match what {
                PemKind::Certificate => "--cert",
                PemKind::PrivateKey => "--key",
            })
        }
        E::KeyMismatch | E::CertificateNotValidNow { .. } => Some("--cert and --key"),
        E::PublicUrlNotHttps { .. } | E::MalformedPublicUrl { .. } => Some("--public-url"),
        E::BadListenAddress {
            plain_http: true, ..
        } => Some("--listen; behind a TLS-terminating load balancer use --trusted-proxy"),
        E::BadListenAddress { .. } | E::Bind { .. } => Some("--listen"),
        E::NoTrustedProxies | E::BadTrustedProxy { .. } => Some("--trusted-proxy"),
        #[cfg(feature = "acme")]
        E::AcmeConfig { .. } => Some("--acme-domain, --acme-directory, --acme-cache"),
        #[cfg(feature = "acme")]
        E::AcmeCache { .. } => Some("--acme-cache"),
        #[cfg(feature = "acme")]
        E::AcmeCaRoot { .. } => Some("--acme-ca-root"),
        #[cfg(feature = "acme")]
        E::AcmeTimeout { .. } => Some("--acme-domain, --acme-directory, --acme-ca-root, --listen"),
        _ => None,
    };
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if let Some(flag) = flag {
        message.push_str(&format!(" [{flag}]"));
    }
    message
}

async fn run<S: ProxyService>(name: &str, service: impl FnOnce(Setup) -> S) -> Result<(), String> {
    let options = Options::parse()?;
    // Every check happens here, before anything is bound.
    let listen = parse_listen_addr(options.listen.as_deref().unwrap_or("127.0.0.1:8443"))
        .map_err(explain)?;
    let public_url = options
        .public_url
        .as_deref()
        .map(PublicUrl::parse)
        .transpose()
        .map_err(explain)?;
    let path_prefix = public_url
        .as_ref()
        .map_or(String::new(), |url| url.path_prefix().to_owned());
    let (api_key, generated_key) = match options.api_key {
        Some(key) => (key, false),
        None => (random_hex(16)?, true),
    };
    let layer = PrivatePlayLayer::new(ApiKey::new(api_key.clone()).map_err(|e| e.to_string())?)
        // Named in every answer, NOT_ENROLLED and CHECK_IN_FAILED included.
        .play(Play::new().action("check_in", ["userName", "checkInTime"]))
        .allow_play_builder_test_calls()
        .enrolled_users_only("NOT_ENROLLED");
    let (builder, self_signed) = match options.trusted_proxy {
        Some(proxies) => {
            if options.cert.is_some() || options.key.is_some() || options.acme.domain.is_some() {
                return Err(
                    "--trusted-proxy serves behind a TLS-terminating load balancer, \
                            which holds the certificate: drop --cert/--key/--acme-domain, or drop \
                            --trusted-proxy to terminate TLS here"
                        .to_owned(),
                );
            }
            let proxies: TrustedProxies = proxies.parse().map_err(explain)?;
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
        None if options.acme.domain.is_some() => {
            if options.cert.is_some() || options.key.is_some() {
                return Err(
                    "--acme-domain gets the certificate from an ACME CA: drop --cert/--key, \
                            or drop --acme-domain to serve those files"
                        .to_owned(),
                );
            }
            let builder = acme_tls(options.acme)?;
            match public_url {
                Some(url) => (builder.public_url(url), None),
                None => (builder, None),
            }
        }
        None => {
            let (builder, self_signed) = direct_tls(options.cert, options.key)?;
            match public_url {
                Some(url) => (builder.public_url(url), self_signed),
                None => (builder, self_signed),
            }
        }
    };

    let db = PathBuf::from(
        options
            .db
            .as_deref()
            .unwrap_or("nugu-proxy-attendance.sqlite3"),
    );
    let attendance = Attendance::open(&db)?;
    println!("check-ins are kept in {}", attendance.path().display());
    let server = builder.bind(listen).await.map_err(explain)?;
    let addr = server.local_addr();
    // With --cert, the last line before serving: scripts may stop reading here.
    println!("nugu-proxy {name} listening on {addr}");
    // Kept until the server stops: the certificate's directory is removed with it.
    let saved = match &self_signed {
        Some(cert) => Some(cert.print_try_it(
            addr,
            &path_prefix,
            generated_key.then_some(api_key.as_str()),
        )?),
        None => None,
    };

    server
        .serve(service(Setup {
            layer,
            attendance,
            path_prefix,
        }))
        .await;
    drop(saved);
    Ok(())
}

/// Direct TLS with a certificate from an ACME CA (obtained at `bind` unless cached, then renewed
/// while serving).
#[cfg(feature = "acme")]
fn acme_tls(options: AcmeOptions) -> Result<ServerBuilder, String> {
    use nugu_proxy::server::{AcmeConfig, LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING};
    let domain = options.domain.unwrap_or_default();
    let directory = match options.directory.as_deref() {
        None => LETS_ENCRYPT_PRODUCTION.to_owned(),
        Some("staging") => LETS_ENCRYPT_STAGING.to_owned(),
        Some(url) => url.to_owned(),
    };
    let cache = options
        .cache
        .unwrap_or_else(|| "nugu-proxy-acme".to_owned());
    let mut config = AcmeConfig::new([domain.clone()])
        .directory(&directory)
        .cache_dir(&cache);
    if let Some(contact) = options.contact {
        config = config.contact(contact);
    }
    if let Some(root) = options.ca_root {
        config = config.ca_root(root);
    }
    let tls = TlsConfig::acme(config).map_err(explain)?;
    println!(
        "TLS for {domain} from the ACME CA {directory} (cache {cache}); renewed while serving"
    );
    Ok(Server::builder().tls(tls))
}

#[cfg(not(feature = "acme"))]
fn acme_tls(_options: AcmeOptions) -> Result<ServerBuilder, String> {
    Err(
        "--acme-domain needs the `acme` feature: cargo run --features acme --example \
         https_proxy -- --acme-domain ..."
            .to_owned(),
    )
}

/// Direct TLS with the given files, or with a fresh self-signed certificate for localhost.
fn direct_tls(
    cert: Option<String>,
    key: Option<String>,
) -> Result<(ServerBuilder, Option<SelfSigned>), String> {
    let missing = |missing| explain(StartupError::MissingTlsMaterial { missing });
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let tls = TlsConfig::from_pem_files(&cert, &key).map_err(explain)?;
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
            .map_err(explain)?;
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
    /// sample user at `{path_prefix}/check_in`. `demo_key` is the API key generated for this
    /// run, if one was. Returns the
    /// directory the certificate is in, removed when dropped.
    fn print_try_it(
        &self,
        addr: SocketAddr,
        path_prefix: &str,
        demo_key: Option<&str>,
    ) -> Result<tempfile::TempDir, String> {
        let (dir, file) = save_private(&self.cert_pem)?;
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
            "try it:\n\n  curl --cacert {file} https://{host}:{port}{path_prefix}/check_in \\\n    \
             -H 'Content-Type: application/json' -H \"Authorization: token {token}\" \\\n    \
             -d '{SAMPLE_REQUEST}'\n",
            file = file.display(),
            port = addr.port(),
            token = demo_key.unwrap_or("$NUGU_API_KEY"),
        );
        Ok(dir)
    }
}

/// Writes `pem` into a new directory that only this user may enter (mode 0700, a random name
/// made with `O_EXCL`, so nobody can have planted it or a symlink in its place), as a new file
/// (mode 0600, `create_new`: never through an existing file or symlink).
fn save_private(pem: &str) -> Result<(tempfile::TempDir, PathBuf), String> {
    use std::io::Write;

    let mut dir = tempfile::Builder::new();
    dir.prefix("nugu-proxy-");
    #[cfg(unix)]
    dir.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let dir = dir
        .tempdir()
        .map_err(|e| format!("cannot make a private directory for the certificate: {e}"))?;
    let file = dir.path().join("localhost.pem");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let failed = |e: std::io::Error| format!("cannot write {}: {e}", file.display());
    options
        .open(&file)
        .and_then(|mut out| out.write_all(pem.as_bytes()))
        .map_err(failed)?;
    Ok((dir, file))
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

/// Whom a check-in is recorded for: the employee number (`tag`), or the hashed `userKey`.
pub fn who(user: &nugu_proxy::EnrolledUser, play: &nugu_proxy::PrivatePlay) -> String {
    user.tag().unwrap_or(play.user_key()).to_owned()
}
