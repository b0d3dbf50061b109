//! A real ACME CA for the tests: Pebble (Let's Encrypt's test CA) and pebble-challtestsrv (its
//! DNS), started on loopback ports with configs of their own. They are a dependency like any
//! other: where they are missing the tests that need them fail (`scripts/test` installs them).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nugu_proxy::server::AcmeConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpStream;

use super::PATIENCE;

/// The name the tests get certificates for; challtestsrv points it at 127.0.0.1.
pub const DOMAIN: &str = "proxy.nugu.test";

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Killed {
    let child = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}): install it (`apt-get install -y pebble`, or scripts/test)")
        });
    Killed(child)
}

pub async fn wait_for_port(port: u16) {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "port {port} never opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Pebble and challtestsrv, running until dropped.
pub struct Pebble {
    _dns: Killed,
    pebble: Option<Killed>,
    /// The directory URL.
    pub directory: String,
    /// The PEM root that Pebble's own HTTPS (directory, management) chains to.
    pub https_root: PathBuf,
    /// Pebble's issuing root, fetched from its management interface.
    pub issuing_root: CertificateDer<'static>,
}

impl Pebble {
    /// Starts both, Pebble validating TLS-ALPN-01 on `tls_port` and issuing certificates valid
    /// for `validity`.
    pub async fn start(dir: &Path, tls_port: u16, validity: Duration) -> Self {
        Self::start_rejecting_nonces(dir, tls_port, validity, 0).await
    }

    /// Like [`start`](Self::start), with Pebble refusing this percentage of good nonces
    /// (`badNonce`), as a real CA may.
    pub async fn start_rejecting_nonces(
        dir: &Path,
        tls_port: u16,
        validity: Duration,
        nonce_reject_percent: u8,
    ) -> Self {
        let (dns_port, dns_management) = (free_port(), free_port());
        let dns = spawn(
            "pebble-challtestsrv",
            &[
                "-dns01",
                &format!("127.0.0.1:{dns_port}"),
                "-management",
                &format!("127.0.0.1:{dns_management}"),
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
            ],
            &[],
        );
        wait_for_port(dns_management).await;
        // The test name points at this host.
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{dns_management}/add-a"))
            .body(format!(
                r#"{{"host":"{DOMAIN}.","addresses":["127.0.0.1"]}}"#
            ))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();

        // Pebble's own HTTPS certificate, under a root of this test's.
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let https_root = dir.join("pebble-https-root.pem");
        std::fs::write(&https_root, ca.pem()).unwrap();
        std::fs::write(dir.join("pebble-cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("pebble-key.pem"), leaf_key.serialize_pem()).unwrap();

        let (port, management) = (free_port(), free_port());
        let config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.join("pebble-cert.pem"),
            "privateKey": dir.join("pebble-key.pem"),
            "httpPort": free_port(),
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
            "certificateValidityPeriod": validity.as_secs(),
        }});
        let config_path = dir.join("pebble.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let pebble = spawn(
            "pebble",
            &[
                "-config",
                config_path.to_str().unwrap(),
                "-dnsserver",
                &format!("127.0.0.1:{dns_port}"),
            ],
            &[
                ("PEBBLE_VA_NOSLEEP", "1"),
                ("PEBBLE_WFE_NONCEREJECT", &nonce_reject_percent.to_string()),
            ],
        );
        wait_for_port(port).await;
        wait_for_port(management).await;

        let pem = std::fs::read(&https_root).unwrap();
        let management_client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let root_pem = management_client
            .get(format!("https://127.0.0.1:{management}/roots/0"))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let issuing_root = CertificateDer::from_pem_slice(&root_pem).unwrap();
        Self {
            _dns: dns,
            pebble: Some(pebble),
            directory: format!("https://127.0.0.1:{port}/dir"),
            https_root,
            issuing_root,
        }
    }

    pub fn acme(&self, cache: &Path) -> AcmeConfig {
        AcmeConfig::new([DOMAIN])
            .contact("ops@nugu.test")
            .directory(&self.directory)
            .ca_root(&self.https_root)
            .cache_dir(cache)
            .startup_timeout(Duration::from_secs(60))
    }

    pub fn stop(&mut self) {
        self.pebble = None;
    }
}
