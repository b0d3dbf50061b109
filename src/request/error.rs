//! Why a body is not a NUGU action request, and where.

use std::fmt;

/// A body that could not be parsed as an [`ActionRequest`](crate::ActionRequest).
///
/// The message names the JSON path and the position, and never repeats a value from the body:
/// serde's own messages quote the offending value (which may be a phone number), so they are
/// rewritten to keep only its kind.
///
/// ```
/// use nugu_proxy::{request::ParseErrorKind, ActionRequest};
///
/// let err = ActionRequest::from_slice(r#"{"version":"2.0","action":{"actionName":"a"},"context":{},
///     "profile":{"privatePlay":{"userKey":"u","deviceKey":"d","enrolledUser":{"name":"홍길동","phoneNo":1011112222,"email":"e"}}}}"#)
///     .unwrap_err();
/// assert_eq!(err.kind(), ParseErrorKind::Data);
/// assert_eq!(err.path(), Some("profile.privatePlay.enrolledUser.phoneNo"));
/// assert!(!err.to_string().contains("1011112222"));
/// ```
#[derive(Clone)]
pub struct ParseError {
    kind: ParseErrorKind,
    path: Option<String>,
    message: String,
    line: usize,
    column: usize,
}

/// What kind of problem a [`ParseError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is not well-formed JSON (or not UTF-8, or cut short).
    Syntax,
    /// The body is JSON, but a field is missing or has the wrong type.
    Data,
}

impl ParseError {
    /// What kind of problem this is.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The JSON path of the offending field (`profile.privatePlay.userKey`), when known.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The 1-based line of the body where parsing stopped (0 when unknown).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column of the body where parsing stopped (0 when unknown).
    pub fn column(&self) -> usize {
        self.column
    }

    pub(crate) fn not_utf8(valid_up_to: usize) -> Self {
        Self {
            kind: ParseErrorKind::Syntax,
            path: None,
            message: format!("body is not valid UTF-8 after byte {valid_up_to}"),
            line: 0,
            column: 0,
        }
    }

    pub(crate) fn too_large(len: usize) -> Self {
        Self {
            kind: ParseErrorKind::Syntax,
            path: None,
            message: format!("body of {len} bytes is larger than the 2 GiB a request may have"),
            line: 0,
            column: 0,
        }
    }

    /// Builds the error from serde_json's, with the path found by a second, path-tracking parse
    /// of the body (done only on this error path, so the hot path pays nothing for it).
    pub(crate) fn from_json(body: &[u8], first: serde_json::Error) -> Self {
        let tracked = serde_path_to_error::deserialize::<_, crate::ActionRequest>(
            &mut serde_json::Deserializer::from_slice(body),
        );
        let (error, path) = match tracked {
            Err(e) => {
                let path = e.path().to_string();
                (e.into_inner(), (path != ".").then(|| truncate(path)))
            }
            Ok(_) => (first, None),
        };
        let kind = match error.classify() {
            serde_json::error::Category::Data => ParseErrorKind::Data,
            _ => ParseErrorKind::Syntax,
        };
        let raw = error.to_string();
        // serde_json appends " at line L column C"; we keep the position in its own fields.
        let raw = raw
            .rsplit_once(" at line ")
            .map_or(raw.as_str(), |(m, _)| m);
        let (path, message) = match (kind, missing_field(raw)) {
            (ParseErrorKind::Data, Some(field)) => (
                Some(match path {
                    Some(parent) => format!("{parent}.{field}"),
                    None => field.to_owned(),
                }),
                "missing required field".to_owned(),
            ),
            _ => (path, redact(raw)),
        };
        Self {
            kind,
            path,
            message,
            line: error.line(),
            column: error.column(),
        }
    }
}

/// Paths name map keys from the body; a hostile key must not turn the error into an echo.
fn truncate(mut path: String) -> String {
    const MAX: usize = 200;
    if path.len() > MAX {
        let mut end = MAX;
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        path.truncate(end);
        path.push('…');
    }
    path
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// Keeps serde's explanation but drops any value it quotes from the body.
fn redact(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // "invalid type: string \"01011112222\", expected a boolean": keep the kind of the
            // unexpected value ("string") and what was expected (our own words).
            let kind = rest.split([' ', ',']).next().unwrap_or("value");
            let expected = rest
                .rsplit_once(", expected ")
                .map_or(String::new(), |(_, e)| format!(", expected {e}"));
            return format!("{prefix}{kind}{expected}");
        }
    }
    let quotes_input = message.starts_with("unknown variant")
        || message.starts_with("unknown field")
        || message.starts_with("invalid length");
    if quotes_input {
        return "invalid value".to_owned();
    }
    message.to_owned()
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)?;
        if self.line > 0 {
            write!(f, " (line {}, column {})", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

crate::report::debug_as_report!(ParseError);

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_drops_values() {
        assert_eq!(
            redact("invalid type: string \"01011112222\", expected a boolean"),
            "invalid type: string, expected a boolean"
        );
        assert_eq!(
            redact("invalid type: integer `1011112222`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            redact("unknown variant `secret`, expected one of"),
            "invalid value"
        );
        assert_eq!(
            redact("duplicate field `version`"),
            "duplicate field `version`"
        );
    }
}
