//! [`Sensitive`]: personal data and credentials, never shown by `Debug`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A string that is personal data (name, email, phone, alias) or a credential (a group or user
/// token). `Debug` prints `<redacted>`; there is no `Display`, so it cannot slip into a log line
/// by accident. Read it with [`Sensitive::expose`].
///
/// ```
/// use nugu_proxy::biz::Sensitive;
/// let email = Sensitive::from("kim@example.com");
/// assert_eq!(format!("{email:?}"), "<redacted>");
/// assert_eq!(email.expose(), "kim@example.com");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Take care where it goes.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Sensitive {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
