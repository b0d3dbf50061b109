//! Sending over the network: a real HTTPS client (reqwest on rustls, ring) and what came back.

use std::error::Error as _;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use nugu_proxy::testing::NuguRequest;
use reqwest::{Certificate, Client};

/// Where the proxy is: `https://host:port` and the Web URL's path prefix.
#[derive(Clone, Debug)]
pub struct Target {
    /// `scheme://host:port`, no path.
    pub origin: String,
    /// The same host and port over plain HTTP.
    pub plain_origin: String,
    /// The path prefix (`/nugu`), or empty.
    pub prefix: String,
    /// Whether the URL says https.
    pub https: bool,
}

impl Target {
    /// Reads the Web URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("the URL {url:?} is not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(format!(
                    "the URL {url:?} is not http(s)://host[:port][/prefix]"
                ))
            }
        };
        let Some(host) = uri.host() else {
            return Err(format!("the URL {url:?} has no host"));
        };
        if uri.query().is_some() {
            return Err(format!(
                "the URL {url:?} has a query: NUGU appends /{{actionName}}"
            ));
        }
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Ok(Self {
            origin: format!("{}://{host}:{port}", if https { "https" } else { "http" }),
            plain_origin: format!("http://{host}:{port}"),
            prefix: uri.path().trim_end_matches('/').to_owned(),
            https,
        })
    }
}

/// What one request got: an answer, or why there was none.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub latency: Duration,
    /// Whether the proxy gave no answer within the patience.
    pub timed_out: bool,
    pub outcome: Result<Answer, String>,
}

/// An HTTP answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// The HTTPS client, and one for plain HTTP (only for checking that plain HTTP gets nothing).
#[derive(Clone)]
pub struct Sender {
    pub target: Target,
    client: Client,
    plain: Client,
    /// A request that has not answered after this is given up.
    pub patience: Duration,
    roots: Vec<Certificate>,
}

impl Sender {
    /// Trusts the system's roots, the built-in (Mozilla) ones and the certificates of `cacert`.
    pub fn new(target: Target, cacert: Option<&Path>, timeout: Duration) -> Result<Self, String> {
        let mut roots = Vec::new();
        if let Some(path) = cacert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read --cacert {}: {e}", path.display()))?;
            roots = Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("--cacert {}: {e}", path.display()))?;
            if roots.is_empty() {
                return Err(format!("--cacert {}: no certificate in it", path.display()));
            }
        }
        // Long enough to tell "slow" (the latency rule) from "never answers", short enough
        // that a proxy that hangs costs seconds per request, not minutes.
        let patience = (timeout * 3).max(Duration::from_secs(1));
        let client = https_client(&roots, patience)?;
        let plain = Client::builder()
            .timeout(patience)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            target,
            client,
            plain,
            patience,
            roots,
        })
    }

    /// A new HTTPS client with its own connection pool (the burst opens one per client).
    pub fn fresh(&self) -> Result<Self, String> {
        Ok(Self {
            client: https_client(&self.roots, self.patience)?,
            ..self.clone()
        })
    }

    /// Sends the NUGU request (its headers and path, and `body`) over HTTPS.
    pub async fn nugu(&self, request: &NuguRequest, body: String) -> Exchange {
        let http = request.to_http_request();
        let url = format!("{}{}", self.target.origin, http.uri());
        let mut builder = self.client.post(url).body(body);
        for (name, value) in http.headers() {
            builder = builder.header(name, value);
        }
        exchange(builder).await
    }

    /// Any request over HTTPS: `path` under the origin, with these headers.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Exchange {
        let mut builder = self
            .client
            .request(method, format!("{}{path}", self.target.origin));
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        exchange(builder).await
    }

    /// The NUGU request over plain HTTP, without its API key (never sent in the clear).
    pub async fn plain(&self, request: &NuguRequest) -> Exchange {
        let request = request.clone().without_api_key();
        let http = request.to_http_request();
        let url = format!("{}{}", self.target.plain_origin, http.uri());
        let mut builder = self.plain.post(url).body(request.to_json().to_string());
        for (name, value) in http.headers() {
            builder = builder.header(name, value);
        }
        exchange(builder).await
    }
}

fn https_client(roots: &[Certificate], patience: Duration) -> Result<Client, String> {
    let mut builder = Client::builder()
        .use_rustls_tls()
        .https_only(true)
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .timeout(patience)
        .redirect(reqwest::redirect::Policy::none());
    for root in roots {
        builder = builder.add_root_certificate(root.clone());
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTPS client: {e}"))
}

async fn exchange(request: reqwest::RequestBuilder) -> Exchange {
    let start = Instant::now();
    let outcome: Result<Answer, reqwest::Error> = async {
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok(Answer { status, body })
    }
    .await;
    Exchange {
        latency: start.elapsed(),
        timed_out: outcome.as_ref().is_err_and(reqwest::Error::is_timeout),
        outcome: outcome.map_err(explain),
    }
}

/// The error and its causes on one line (the TLS reason is a few levels down).
fn explain(error: reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_gives_origin_and_prefix() {
        let t = Target::parse("https://play.example.com/nugu/").unwrap();
        assert_eq!(t.origin, "https://play.example.com:443");
        assert_eq!(t.plain_origin, "http://play.example.com:443");
        assert_eq!(t.prefix, "/nugu");
        let t = Target::parse("https://127.0.0.1:8443").unwrap();
        assert_eq!(
            (t.origin.as_str(), t.prefix.as_str()),
            ("https://127.0.0.1:8443", "")
        );
        assert!(!Target::parse("http://x/").unwrap().https);
        assert!(Target::parse("ftp://x/").is_err());
        assert!(Target::parse("not a url").is_err());
    }
}
