//! The proof a trusted TLS terminator gives that a request arrived over HTTPS.

use http::header::{HeaderMap, FORWARDED};
use http::HeaderName;

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Whether the headers say the request arrived over HTTPS: at least one protocol claim
/// (`X-Forwarded-Proto` values, `proto=` parameters of `Forwarded`), and every claim `https`.
///
/// Requiring *every* claim to be `https` means a chain that had a plain-HTTP hop anywhere, or a
/// client-sent `X-Forwarded-Proto: http` that the proxy appended to, is refused.
pub(crate) fn says_https(headers: &HeaderMap) -> bool {
    let xfp = headers.get_all(X_FORWARDED_PROTO).iter().map(|v| {
        v.to_str()
            .map(|s| s.split(',').map(str::trim).collect::<Vec<_>>())
    });
    let fwd = headers.get_all(FORWARDED).iter().map(|v| {
        v.to_str().map(|s| {
            s.split([',', ';'])
                .filter_map(|pair| pair.split_once('='))
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("proto"))
                .map(|(_, v)| v.trim().trim_matches('"'))
                .collect::<Vec<_>>()
        })
    });
    let mut claims = 0usize;
    for values in xfp.chain(fwd) {
        let Ok(values) = values else { return false };
        for v in values {
            if !v.eq_ignore_ascii_case("https") {
                return false;
            }
            claims += 1;
        }
    }
    claims > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn accepts_https_claims() {
        assert!(says_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(says_https(&headers(&[("x-forwarded-proto", "HTTPS")])));
        assert!(says_https(&headers(&[(
            "forwarded",
            "for=198.51.100.1;proto=https;host=proxy.example.com"
        )])));
        assert!(says_https(&headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]\";proto=\"https\""
        )])));
    }

    #[test]
    fn refuses_missing_or_plain_claims() {
        assert!(!says_https(&headers(&[])));
        assert!(!says_https(&headers(&[("x-forwarded-proto", "http")])));
        assert!(!says_https(&headers(&[(
            "x-forwarded-proto",
            "http, https"
        )])));
        assert!(!says_https(&headers(&[("x-forwarded-proto", "")])));
        assert!(!says_https(&headers(&[("forwarded", "for=198.51.100.1")])));
        assert!(!says_https(&headers(&[
            ("x-forwarded-proto", "https"),
            ("forwarded", "proto=http")
        ])));
    }
}
