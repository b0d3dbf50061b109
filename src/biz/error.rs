//! Errors of the Biz API: the documented `errorCode`s and everything else a call can end in.
//!
//! No variant carries personal data or a credential: request bodies, response bodies and the
//! publisher token never appear in an error's `Display` or `Debug`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// The `errorCode` of a Biz API `400 Bad Request` body (`{"errorCode": "USER005"}`).
        ///
        /// Every code the Biz pages document has its own variant; a code NUGU adds later arrives
        /// as [`ErrorCode::Unknown`] instead of failing the response.
        ///
        /// ```
        /// use nugu_proxy::biz::ErrorCode;
        ///
        /// assert_eq!("USER007".parse::<ErrorCode>().unwrap(), ErrorCode::User007);
        /// assert_eq!(ErrorCode::Group004.as_str(), "GROUP004");
        /// assert_eq!(ErrorCode::from("NEW042"), ErrorCode::Unknown("NEW042".into()));
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// A code this version of the crate does not know, kept verbatim.
            Unknown(String),
        }

        impl ErrorCode {
            /// The code as it appears on the wire, e.g. `"PLAY001"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(code) => code,
                }
            }
        }

        impl From<&str> for ErrorCode {
            fn from(code: &str) -> Self {
                match code {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// Biz Kit basic information (required fields) has not been entered.
    Pub001 = "PUB001",
    /// A `playServiceId` is missing or wrong.
    Play001 = "PLAY001",
    /// The play is not in service.
    Play002 = "PLAY002",
    /// The play does not belong to the publisher.
    Play003 = "PLAY003",
    /// The group does not exist or does not belong to the publisher.
    Group001 = "GROUP001",
    /// The group name is missing or too long (100).
    Group002 = "GROUP002",
    /// The group alias is too long (100).
    Group003 = "GROUP003",
    /// Both `targetPlayServiceIds` and `targetGroupId` were sent.
    Group004 = "GROUP004",
    /// The target group has no Private Play.
    Group005 = "GROUP005",
    /// A user's email is missing or too long (350).
    User001 = "USER001",
    /// A user's name is missing or too long (100).
    User002 = "USER002",
    /// A user's alias is too long (100).
    User003 = "USER003",
    /// A duplicate email.
    User004 = "USER004",
    /// A user's phone number is insufficient (missing, too long (12) or not a number).
    User005 = "USER005",
    /// The invitation reason (`reason`) is insufficient. The pages say no more; the client
    /// refuses with it a reason that is missing, blank or longer than 400
    /// ([`InvitationReason`](super::InvitationReason)).
    User006 = "USER006",
    /// A trial-edition publisher would exceed its user limit (10, pending invitations included).
    User007 = "USER007",
    /// Biz Kit basic information missing (user update).
    User008 = "USER008",
    /// Announcement: the body does not parse.
    V1ann001 = "V1ANN001",
    /// Announcement: no `playServiceId`.
    V1ann002 = "V1ANN002",
    /// Announcement: neither a `tts` nor a `display` object.
    V1ann101 = "V1ANN101",
    /// Announcement: no `tts.text`.
    V1ann102 = "V1ANN102",
    /// Announcement: `tts.speed` is not 85 to 120 in steps of 5.
    V1ann103 = "V1ANN103",
    /// Announcement: `tts.pause1` is not 300 to 900 in steps of 100.
    V1ann104 = "V1ANN104",
    /// Announcement: `tts.pause2` is not 100 to 500 in steps of 100.
    V1ann105 = "V1ANN105",
    /// Announcement: `display.type` is not `FullText1` or `ImageText2`.
    V1ann201 = "V1ANN201",
    /// Announcement: no `display.title`.
    V1ann202 = "V1ANN202",
    /// Announcement: no `display.header`.
    V1ann203 = "V1ANN203",
    /// Announcement: no `display.body`. The group announcement page also lists it for a
    /// `playServiceId` that is not allowed (where the other pages answer `V1ANN301`).
    V1ann204 = "V1ANN204",
    /// Announcement: the `playServiceId` is not allowed (not the publisher's, or not in service).
    V1ann301 = "V1ANN301",
}

impl ErrorCode {
    /// What the code means, in English (from the Biz API pages).
    ///
    /// ```
    /// use nugu_proxy::biz::ErrorCode;
    /// assert!(ErrorCode::User007.description().contains("trial"));
    /// ```
    pub fn description(&self) -> &'static str {
        match self {
            Self::Pub001 => "Biz Kit basic information is missing",
            Self::Play001 => "playServiceId missing or wrong",
            Self::Play002 => "play not in service",
            Self::Play003 => "play not owned by the publisher",
            Self::Group001 => "group missing or not owned by the publisher",
            Self::Group002 => "group name missing or longer than 100",
            Self::Group003 => "group alias longer than 100",
            Self::Group004 => "both targetPlayServiceIds and targetGroupId given",
            Self::Group005 => "group has no Private Play",
            Self::User001 => "email missing or longer than 350",
            Self::User002 => "name missing or longer than 100",
            Self::User003 => "alias longer than 100",
            Self::User004 => "duplicate email",
            Self::User005 => "phone number insufficient",
            Self::User006 => "invitation reason insufficient (missing, blank or longer than 400)",
            Self::User007 => "trial edition user limit exceeded",
            Self::User008 => "Biz Kit basic information is missing",
            Self::V1ann001 => "announcement body does not parse",
            Self::V1ann002 => "announcement playServiceId missing",
            Self::V1ann101 => "announcement has neither tts nor display",
            Self::V1ann102 => "announcement tts.text missing",
            Self::V1ann103 => "tts.speed not 85 to 120 in steps of 5",
            Self::V1ann104 => "tts.pause1 not 300 to 900 in steps of 100",
            Self::V1ann105 => "tts.pause2 not 100 to 500 in steps of 100",
            Self::V1ann201 => "display.type not FullText1 or ImageText2",
            Self::V1ann202 => "display.title missing",
            Self::V1ann203 => "display.header missing",
            Self::V1ann204 => {
                "display.body missing (group announcement: or playServiceId not allowed)"
            }
            Self::V1ann301 => "playServiceId not allowed",
            Self::Unknown(_) => "error code unknown to this client",
        }
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(code))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(Self::from(code.as_str()))
    }
}

/// Everything a [`BizClient`](super::BizClient) call can end in other than success.
///
/// The HTTP statuses the Biz pages document each have their own variant. Messages name fields
/// and codes, never their values.
#[non_exhaustive]
pub enum BizError {
    /// The request was refused **before sending**: it breaks a rule the API checks, and `code`
    /// is what the API would have answered. `field` says where, e.g. `users[2].phone`.
    Invalid {
        /// The code the API would return.
        code: ErrorCode,
        /// The offending field, as a JSON path.
        field: String,
    },
    /// The request was refused **before sending** by a safety rule of this client rather than
    /// an API code: a `callBack` or `confirmUrl` that is not `https` or is on a port the API
    /// does not call, an empty token. `field` names the parameter, `reason` the rule.
    Unsendable {
        /// The parameter, e.g. `callBack`.
        field: &'static str,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// `400 Bad Request` with `{"errorCode": ...}`; a 400 without a readable code carries
    /// `ErrorCode::Unknown("")`.
    Api(ErrorCode),
    /// `401`: the Biz pages use it for "a group with this name already exists".
    NameTaken,
    /// `403`: the publisher token is invalid, or the resource is not the publisher's.
    Forbidden,
    /// `404`: the group, user or invitation was not found.
    NotFound,
    /// `406`: the invitation can no longer be cancelled (already accepted or in progress).
    NotAcceptable,
    /// `415`: the API did not accept the media type.
    UnsupportedMediaType,
    /// A `5xx` answer (after the retries the policy allows, for idempotent calls).
    Server {
        /// The status code.
        status: u16,
    },
    /// A `3xx` redirect. The client follows none: the publisher token and a request's personal
    /// data must reach the configured API only. `host` is where the redirect pointed (host and
    /// port, never the path or query), `None` without a readable `Location`.
    Redirect {
        /// The status code.
        status: u16,
        /// The target's host (and port, if given).
        host: Option<String>,
    },
    /// Any other status the documentation does not list.
    UnexpectedStatus {
        /// The status code.
        status: u16,
    },
    /// No complete answer within the configured timeout.
    Timeout(Duration),
    /// The connection failed (refused, reset, TLS...), after the retries the policy allows.
    Transport(reqwest::Error),
    /// A success answer whose body does not have the documented shape.
    Decode {
        /// Where in the body the mismatch is, e.g. `groups[0].playCount`.
        path: String,
        /// What kind of mismatch (never the offending value).
        reason: String,
    },
    /// The answer was larger than the client accepts.
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The client was configured with an unusable value (base URL, token).
    Config(String),
}

impl BizError {
    /// The API error code, whether the API answered it or the client caught it before sending.
    ///
    /// ```
    /// use nugu_proxy::biz::{BizError, ErrorCode};
    /// let err = BizError::Invalid { code: ErrorCode::User005, field: "users[0].phone".into() };
    /// assert_eq!(err.code(), Some(&ErrorCode::User005));
    /// assert_eq!(BizError::Forbidden.code(), None);
    /// ```
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Invalid { code, .. } | Self::Api(code) => Some(code),
            _ => None,
        }
    }

    /// The HTTP status the API answered, for errors that are an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(_) => Some(400),
            Self::NameTaken => Some(401),
            Self::Forbidden => Some(403),
            Self::NotFound => Some(404),
            Self::NotAcceptable => Some(406),
            Self::UnsupportedMediaType => Some(415),
            Self::Server { status }
            | Self::UnexpectedStatus { status }
            | Self::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn invalid(code: ErrorCode, field: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            field: field.into(),
        }
    }
}

impl fmt::Display for BizError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { code, field } => write!(
                f,
                "invalid request, not sent: {field}: {code} ({})",
                code.description()
            ),
            Self::Unsendable { field, reason } => {
                write!(f, "invalid request, not sent: {field}: {reason}")
            }
            Self::Api(code) => write!(
                f,
                "Biz API refused the request: {code} ({})",
                code.description()
            ),
            Self::NameTaken => f.write_str("Biz API answered 401: a group with this name exists"),
            Self::Forbidden => {
                f.write_str("Biz API answered 403: invalid publisher token or resource")
            }
            Self::NotFound => f.write_str("Biz API answered 404: not found"),
            Self::NotAcceptable => {
                f.write_str("Biz API answered 406: not acceptable (already accepted)")
            }
            Self::UnsupportedMediaType => {
                f.write_str("Biz API answered 415: unsupported media type")
            }
            Self::Server { status } => write!(f, "Biz API server error {status}"),
            Self::UnexpectedStatus { status } => {
                write!(f, "Biz API answered unexpected status {status}")
            }
            Self::Redirect { status, host } => write!(
                f,
                "Biz API answered a redirect {status} to {}; redirects are not followed",
                host.as_deref().unwrap_or("an unreadable location")
            ),
            Self::Timeout(after) => write!(f, "Biz API did not answer within {after:?}"),
            // The reason is the source: printed once, by whoever walks the chain.
            Self::Transport(_) => f.write_str("Biz API connection failed"),
            Self::Decode { path, reason } => {
                write!(
                    f,
                    "Biz API answer has an unexpected shape at `{path}`: {reason}"
                )
            }
            Self::ResponseTooLarge { limit } => {
                write!(f, "Biz API answer larger than {limit} bytes")
            }
            Self::Config(what) => write!(f, "Biz client configuration: {what}"),
        }
    }
}

crate::report::debug_as_report!(BizError);

impl std::error::Error for BizError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(err) => Some(err),
            _ => None,
        }
    }
}
