//! The browser's side of completing an account link: the page that sends the user, with the
//! token, from the publisher's authentication page back to NUGU's `callBack`.
//!
//! NUGU sends the user's browser to the publisher, and the invitation goes on only while the
//! user stays in that flow ("페이지 이탈" aborts it), so the natural way back is the browser
//! itself: a page whose form `POST`s to `callBack`, submitted by a script at once, with a
//! button if scripts are off. The page documents `status`, `userApiToken` and `confirmUrl` as
//! query parameters of that `POST`, so they are in the form's `action`, exactly as the
//! server-to-server post sends them; a body would be lost on a receiver that reads the query.

use http::{header, HeaderValue, Response, StatusCode};

use super::confirm::ConfirmUrl;
use super::link::{LinkError, SignedInLink};
use super::model::UserApiToken;

/// The page's only script; the policy allows exactly it, by hash.
const SCRIPT: &str = r#"document.getElementById("nugu-link").submit();"#;

/// `sha256` of [`SCRIPT`], base64: the Content-Security-Policy runs no other script (a test
/// recomputes it).
macro_rules! script_hash {
    () => {
        "sha256-2P3mSXwq63yiAQI8+fi6Jtwy4J2OCIRwzwzECl02Vuw="
    };
}

/// Nothing loads, no other script runs, no one frames the page, no `<base>` moves the form.
/// No `form-action`: browsers apply it to the redirects NUGU's `callBack` may answer with,
/// which the crate cannot know; the form's one `action` is the checked `callBack`, escaped.
const CSP: &str = concat!(
    "default-src 'none'; script-src '",
    script_hash!(),
    "'; ",
    "base-uri 'none'; frame-ancestors 'none'"
);

impl SignedInLink {
    /// The answer to the user's browser that completes the link: an HTML page whose form
    /// `POST`s `status`, `userApiToken` and `confirmUrl` (the query of its `action`) to
    /// `callBack`, submitted at once by its one inline script (allowed by hash in a strict
    /// Content-Security-Policy) or by its button. Every value is HTML-escaped; the page is
    /// `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, and may not be framed.
    ///
    /// ```
    /// use nugu_proxy::biz::{LinkConfirmations, LinkPolicy, UserApiToken};
    ///
    /// let policy = LinkPolicy::new(["nugu.example"]);
    /// let confirmations = LinkConfirmations::new("https://publisher.example/nugu/confirm/")?;
    /// // The request NUGU sent the browser with, and the user your site has signed in:
    /// let auth = policy.parse_query(
    ///     "status=s-1&email=kim%40example.com&callBack=https%3A%2F%2Fnugu.example%2Fcb",
    /// )?;
    /// let link = auth.for_signed_in_user("kim@example.com")?;
    /// let token = UserApiToken::new("the token you made and stored for kim");
    /// let confirm_url = confirmations.issue(&link, &token)?;
    /// let page = link.browser_page(&token, Some(&confirm_url))?;
    /// assert_eq!(page.headers()["cache-control"], "no-store");
    /// assert!(page.body().contains(r#"action="https://nugu.example/cb?status=s-1&amp;userApiToken="#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn browser_page(
        &self,
        token: &UserApiToken,
        confirm: Option<&ConfirmUrl>,
    ) -> Result<Response<String>, LinkError> {
        let action = self.target(token, confirm)?;
        let body = format!(
            concat!(
                "<!DOCTYPE html>\n",
                "<html lang=\"ko\"><head><meta charset=\"utf-8\">",
                "<meta name=\"referrer\" content=\"no-referrer\">",
                "<title>NUGU 초대 계속하기</title></head>\n<body>\n",
                "<form id=\"nugu-link\" method=\"post\" action=\"{action}\">\n",
                "<p>NUGU로 돌아가 초대를 마칩니다. Returning to NUGU to finish the invitation.</p>\n",
                "<button type=\"submit\">계속 / Continue</button>\n",
                "</form>\n<script>{script}</script>\n</body></html>\n"
            ),
            action = escape(action.as_str()),
            script = SCRIPT,
        );
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        Ok(response)
    }
}

/// Escapes text for an HTML attribute value in double quotes (and for element text).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::biz::LinkPolicy;

    #[test]
    fn the_csp_allows_exactly_the_pages_script() {
        let digest = ring::digest::digest(&ring::digest::SHA256, SCRIPT.as_bytes());
        let hash =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest.as_ref());
        assert_eq!(script_hash!(), format!("sha256-{hash}"));
        assert!(CSP.contains(&format!("script-src '{}';", script_hash!())));
    }

    #[test]
    fn every_value_is_escaped_and_none_leaves_the_form() {
        let mut url = reqwest::Url::parse("http://x/").unwrap();
        url.query_pairs_mut()
            .append_pair("status", "s\"><script>alert(1)</script>")
            .append_pair("email", "kim@example.com")
            .append_pair("callBack", "https://nugu.example/cb?x='\"<b>&y=1");
        let link = LinkPolicy::new(["nugu.example"])
            .parse_query(url.query().unwrap())
            .unwrap()
            .for_signed_in_user("kim@example.com")
            .unwrap();
        let page = link
            .browser_page(&UserApiToken::new("t\"<&>'"), None)
            .unwrap();
        let body = page.body();
        assert_eq!(body.matches("<script>").count(), 1, "{body}");
        assert_eq!(body.matches('"').count() % 2, 0);
        let action_start = body.find("action=\"").unwrap() + 8;
        let action_end = action_start + body[action_start..].find('"').unwrap();
        let action = &body[action_start..action_end];
        assert!(!action.contains(['<', '>', '\'']), "{action}");
        assert!(
            !body.contains("kim@example.com"),
            "the email is not sent to callBack"
        );
    }
}
