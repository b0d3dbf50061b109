//! A browser's reading of the account-linking page (`SignedInLink::browser_page`): its one
//! form (method, action with entities decoded) and the auto-submit script, checked as a browser
//! would run them.

/// A form as a browser reads it: method, action (entities decoded), and the script.
#[derive(Debug)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub script: String,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Reads the page's one form; fails the test if it has inputs outside its action or no
/// visible fallback button.
pub fn read_form(html: &str) -> Form {
    let start = html.find("<form").expect("a form");
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    assert_eq!(html.matches("<form").count(), 1, "one form: {html}");
    assert!(
        !html[start..].contains("<input"),
        "no field outside the action: {html}"
    );
    assert!(
        html.contains("<button type=\"submit\">"),
        "a visible fallback button"
    );
    let script_start = html.find("<script>").expect("the auto-submit script") + 8;
    let script_end = script_start + html[script_start..].find("</script>").unwrap();
    Form {
        method: attribute(tag, "method").unwrap().to_ascii_lowercase(),
        action: attribute(tag, "action").unwrap(),
        script: html[script_start..script_end].to_owned(),
    }
}

/// Whether a browser would run the form's script under the page's `Content-Security-Policy`:
/// the policy names the script's SHA-256.
pub fn script_allowed(csp: &str, form: &Form) -> bool {
    let digest = ring::digest::digest(&ring::digest::SHA256, form.script.as_bytes());
    let hash = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest.as_ref());
    csp.contains(&format!("script-src 'sha256-{hash}'"))
}
