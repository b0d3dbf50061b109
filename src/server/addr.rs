//! The addresses an operator configures: the public URL, the listen address, trusted proxies.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use http::Uri;

use super::error::StartupError;

/// The Web URL registered in Play Builder: `https` only.
///
/// Its path is the prefix under which NUGU calls `POST {prefix}/{actionName}` and polls
/// `GET {prefix}/health`.
///
/// ```
/// use nugu_proxy::server::{PublicUrl, StartupError};
///
/// let url: PublicUrl = "https://proxy.example.com/nugu/".parse()?;
/// assert_eq!(url.path_prefix(), "/nugu");
/// assert_eq!(url.health_path(), "/nugu/health");
///
/// let plain = "http://proxy.example.com".parse::<PublicUrl>().unwrap_err();
/// assert!(matches!(plain, StartupError::PublicUrlNotHttps { .. }));
/// # Ok::<(), StartupError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    url: String,
    prefix: String,
}

impl PublicUrl {
    /// Parses and checks a public URL: scheme `https`, a host, no query.
    pub fn parse(url: &str) -> Result<Self, StartupError> {
        let url = url.trim();
        let malformed = || StartupError::MalformedPublicUrl {
            url: url.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| malformed())?;
        match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => {}
            Some(_) => {
                return Err(StartupError::PublicUrlNotHttps {
                    url: url.to_owned(),
                })
            }
            None => return Err(malformed()),
        }
        if uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
            return Err(malformed());
        }
        Ok(Self {
            url: url.to_owned(),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The path prefix without a trailing slash (`""` for a URL without a path).
    pub fn path_prefix(&self) -> &str {
        &self.prefix
    }

    /// `{prefix}/health`, the path NUGU polls.
    pub fn health_path(&self) -> String {
        format!("{}/health", self.prefix)
    }
}

impl FromStr for PublicUrl {
    type Err = StartupError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Parses a listen address for the HTTPS server: `IP:PORT`, `localhost:PORT` or
/// `https://IP:PORT`. Any other scheme (above all `http://`) is refused: this server never
/// speaks plain HTTP on its own.
///
/// ```
/// use nugu_proxy::server::{parse_listen_addr, StartupError};
///
/// assert_eq!(parse_listen_addr("127.0.0.1:8443")?.port(), 8443);
/// assert_eq!(parse_listen_addr("https://localhost:8443")?.port(), 8443);
/// assert!(matches!(
///     parse_listen_addr("http://0.0.0.0:8080"),
///     Err(StartupError::BadListenAddress { plain_http: true, .. })
/// ));
/// # Ok::<(), StartupError>(())
/// ```
pub fn parse_listen_addr(addr: &str) -> Result<SocketAddr, StartupError> {
    let given = addr.trim();
    let refuse = |plain_http| StartupError::BadListenAddress {
        addr: given.to_owned(),
        plain_http,
    };
    let rest = match given.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => rest,
        Some(_) => return Err(refuse(true)),
        None => given,
    };
    let rest = rest.trim_end_matches('/');
    if let Some(port) = rest.strip_prefix("localhost:") {
        let port = port.parse().map_err(|_| refuse(false))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    rest.parse().map_err(|_| refuse(false))
}

/// The IP addresses of the TLS-terminating load balancers allowed to connect in
/// [`behind_tls_terminator`](super::ChooseTransport::behind_tls_terminator) mode. Never empty.
///
/// ```
/// use nugu_proxy::server::{StartupError, TrustedProxies};
///
/// let proxies: TrustedProxies = "10.0.0.2, 10.0.0.3".parse()?;
/// assert!(proxies.contains("10.0.0.3".parse()?));
/// assert!(matches!("".parse::<TrustedProxies>(), Err(StartupError::NoTrustedProxies)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TrustedProxies {
    addrs: Arc<[IpAddr]>,
}

impl TrustedProxies {
    /// The given addresses; an empty list is refused.
    pub fn new(addrs: impl IntoIterator<Item = IpAddr>) -> Result<Self, StartupError> {
        let addrs: Arc<[IpAddr]> = addrs.into_iter().map(|ip| ip.to_canonical()).collect();
        if addrs.is_empty() {
            return Err(StartupError::NoTrustedProxies);
        }
        Ok(Self { addrs })
    }

    /// Whether `ip` (an IPv4-mapped IPv6 address counts as its IPv4 address) is trusted.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.addrs.contains(&ip.to_canonical())
    }

    /// The trusted addresses.
    pub fn addrs(&self) -> &[IpAddr] {
        &self.addrs
    }
}

impl FromStr for TrustedProxies {
    type Err = StartupError;

    /// A comma-separated list of IP addresses.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let addrs = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry.parse().map_err(|_| StartupError::BadTrustedProxy {
                    entry: entry.to_owned(),
                })
            })
            .collect::<Result<Vec<IpAddr>, _>>()?;
        Self::new(addrs)
    }
}
