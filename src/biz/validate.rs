//! The Biz API's input rules, checked before a request is sent.
//!
//! Each rule answers with the [`ErrorCode`] the API would return, so a caller handles a refused
//! row the same way whether the client or the API refused it. [`BizClient`](super::BizClient)
//! runs these checks on every call; they are public so that a batch (a spreadsheet of invitees)
//! can be checked row by row before anything is sent.
//!
//! Lengths are counted in UTF-16 code units, as the API's Java-based checks count them; for
//! Korean and ASCII text that is the number of characters.
//!
//! ```
//! use nugu_proxy::biz::{validate, ErrorCode, Invitee};
//!
//! let row = Invitee::new("kim@example.com", "", "010-1234-5678");
//! let codes: Vec<_> = validate::invitee(&row).into_iter().map(|v| v.code).collect();
//! assert_eq!(codes, [ErrorCode::User002, ErrorCode::User005]);
//! assert_eq!(validate::normalize_phone(" +82 10-1234-5678 "), "01012345678");
//! ```

use std::collections::HashSet;
use std::fmt;

use super::error::{BizError, ErrorCode};
use super::model::{
    Announcement, CancelScope, DisplayType, GroupRequest, InvitationRequest, InvitationTarget,
    Invitee, Sensitive, UserUpdate,
};

/// Longest group name, group alias, user name, user alias, play id and group id.
pub const MAX_NAME: usize = 100;
/// Longest email.
pub const MAX_EMAIL: usize = 350;
/// Longest phone number.
pub const MAX_PHONE: usize = 12;
/// Shortest phone number accepted (a Seoul landline, `02` and 7 digits).
pub const MIN_PHONE: usize = 9;
/// Longest invitation reason.
pub const MAX_REASON: usize = 400;

/// One broken rule: which field, and the code the API answers for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The code the API would return.
    pub code: ErrorCode,
    /// The field, as a JSON path (`users[3].phone`).
    pub field: String,
}

impl Violation {
    fn new(code: ErrorCode, field: impl Into<String>) -> Self {
        Self {
            code,
            field: field.into(),
        }
    }

    fn under(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.field,
            self.code,
            self.code.description()
        )
    }
}

impl From<Violation> for BizError {
    fn from(v: Violation) -> Self {
        BizError::invalid(v.code, v.field)
    }
}

fn len(value: &str) -> usize {
    value.encode_utf16().count()
}

fn blank(value: &str) -> bool {
    value.trim().is_empty()
}

/// A required text of at most `max`: missing, blank or too long is `code`.
fn required(value: Option<&str>, max: usize) -> bool {
    value.is_some_and(|v| !blank(v) && len(v) <= max)
}

fn at_most(value: Option<&str>, max: usize) -> bool {
    value.is_none_or(|v| len(v) <= max)
}

/// Removes the separators people write phone numbers with (`-`, spaces, dots, parentheses) and
/// turns the Korean country code `+82` into the leading `0`. The API wants digits only.
pub fn normalize_phone(phone: &str) -> String {
    let digits: String = phone
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | '(' | ')'))
        .collect();
    match digits.strip_prefix("+82") {
        Some(rest) if rest.starts_with('0') => rest.to_owned(),
        Some(rest) => format!("0{rest}"),
        None => digits,
    }
}

/// Whether `phone` is what the API takes: 9 to 12 ASCII digits.
pub fn phone_ok(phone: &str) -> bool {
    (MIN_PHONE..=MAX_PHONE).contains(&phone.len()) && phone.bytes().all(|b| b.is_ascii_digit())
}

/// The shape of an email the invitation can be delivered to: one `@` with text on both sides and
/// no whitespace. (The API documents only "missing or too long"; an address without `@` can
/// never accept an invitation, so the client refuses it with the same code.)
fn email_ok(email: &str) -> bool {
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty() && !domain.is_empty() && !email.chars().any(char::is_whitespace)
}

/// The rules of a play id: present and at most 100 (`PLAY001`).
pub(crate) fn play_ids(ids: &[String], field: &str) -> Result<(), Violation> {
    match ids.iter().position(|id| !required(Some(id), MAX_NAME)) {
        Some(i) => Err(Violation::new(ErrorCode::Play001, format!("{field}[{i}]"))),
        None => Ok(()),
    }
}

/// The rules of a group body (create and update): `GROUP002`, `GROUP003`, `PLAY001`.
pub(crate) fn group_fields(
    name: Option<&str>,
    alias: Option<&str>,
    plays: &[String],
) -> Result<(), Violation> {
    if !required(name, MAX_NAME) {
        return Err(Violation::new(ErrorCode::Group002, "name"));
    }
    if !at_most(alias, MAX_NAME) {
        return Err(Violation::new(ErrorCode::Group003, "alias"));
    }
    play_ids(plays, "playServiceIds")
}

/// The rules of one invitee, every broken one, in the order the API checks them.
pub(crate) fn invitee_fields(
    email: Option<&str>,
    name: Option<&str>,
    phone: Option<&str>,
    alias: Option<&str>,
) -> Vec<Violation> {
    let mut broken = Vec::new();
    if !required(email, MAX_EMAIL) || !email.is_some_and(email_ok) {
        broken.push(Violation::new(ErrorCode::User001, "email"));
    }
    if !required(name, MAX_NAME) {
        broken.push(Violation::new(ErrorCode::User002, "name"));
    }
    if !phone.is_some_and(phone_ok) {
        broken.push(Violation::new(ErrorCode::User005, "phone"));
    }
    if !at_most(alias, MAX_NAME) {
        broken.push(Violation::new(ErrorCode::User003, "alias"));
    }
    broken
}

/// The rule of an invitation's reason: present, not blank, at most 400 (`USER006`, "the
/// reason is insufficient"; the page marks it optional, the crate takes the reading that is
/// never refused).
pub(crate) fn reason(reason: Option<&str>) -> Result<(), Violation> {
    if required(reason, MAX_REASON) {
        Ok(())
    } else {
        Err(Violation::new(ErrorCode::User006, "reason"))
    }
}

/// The field rules of an invitation, in the API's order: reason, target, users, duplicates.
/// `group` and `plays` are the raw target fields; the caller has ruled out both at once.
pub(crate) fn invitation_fields<'a>(
    reason: Option<&str>,
    plays: Option<&[String]>,
    group: Option<&str>,
    users: impl ExactSizeIterator<Item = [Option<&'a str>; 4]>,
) -> Result<(), Violation> {
    self::reason(reason)?;
    match (plays, group) {
        (_, Some(group)) if !required(Some(group), MAX_NAME) => {
            return Err(Violation::new(ErrorCode::Group001, "targetGroupId"));
        }
        (Some([]), None) => {
            return Err(Violation::new(ErrorCode::Play001, "targetPlayServiceIds"));
        }
        (Some(plays), None) => play_ids(plays, "targetPlayServiceIds")?,
        (None, None) => return Err(Violation::new(ErrorCode::Play001, "targetPlayServiceIds")),
        _ => {}
    }
    if users.len() == 0 {
        return Err(Violation::new(ErrorCode::User001, "users"));
    }
    let mut seen = HashSet::new();
    for (i, [email, name, phone, alias]) in users.enumerate() {
        let prefix = format!("users[{i}]");
        if let Some(first) = invitee_fields(email, name, phone, alias).into_iter().next() {
            return Err(first.under(&prefix));
        }
        if !seen.insert(email.unwrap_or_default().trim().to_lowercase()) {
            return Err(Violation::new(ErrorCode::User004, "email").under(&prefix));
        }
    }
    Ok(())
}

/// Every rule one invitee breaks (an empty list when it is fine). Fields are relative
/// (`email`, `phone`...). Use it to report every wrong row of a spreadsheet at once.
pub fn invitee(invitee: &Invitee) -> Vec<Violation> {
    invitee_fields(
        Some(invitee.email.expose()),
        Some(invitee.name.expose()),
        Some(invitee.phone.expose()),
        invitee.alias.as_ref().map(|a| a.expose()),
    )
}

/// Checks a group body ("create group", "update group").
///
/// ```
/// use nugu_proxy::biz::{validate, ErrorCode, GroupRequest};
/// let err = validate::group(&GroupRequest::new("x".repeat(101))).unwrap_err();
/// assert_eq!(err.code(), Some(&ErrorCode::Group002));
/// ```
pub fn group(req: &GroupRequest) -> Result<(), BizError> {
    let plays = req.play_service_ids.as_set().map_or(&[][..], Vec::as_slice);
    group_fields(
        Some(&req.name),
        req.alias.as_set().map(String::as_str),
        plays,
    )
    .map_err(Into::into)
}

/// Checks an invitation: reason, target, every invitee, and duplicate emails within it.
///
/// ```
/// use nugu_proxy::biz::{validate, ErrorCode, InvitationRequest, InvitationTarget, Invitee};
/// let twice = Invitee::new("kim@example.com", "Kim", "01012345678");
/// let req = InvitationRequest::new(
///     InvitationTarget::Plays(vec!["com.example.play".into()]),
///     vec![twice.clone(), twice],
///     "Store ordering play".try_into().unwrap(),
/// );
/// assert_eq!(validate::invitation(&req).unwrap_err().code(), Some(&ErrorCode::User004));
/// ```
pub fn invitation(req: &InvitationRequest) -> Result<(), BizError> {
    let (plays, group) = match &req.target {
        InvitationTarget::Plays(ids) => (Some(ids.as_slice()), None),
        InvitationTarget::Group(id) => (None, Some(id.as_str())),
    };
    let users = req.users.iter().map(|u| {
        [
            Some(u.email.expose()),
            Some(u.name.expose()),
            Some(u.phone.expose()),
            u.alias.as_ref().map(|a| a.expose()),
        ]
    });
    invitation_fields(Some(req.reason.as_str()), plays, group, users).map_err(Into::into)
}

/// The rules of a user update: `USER002`, `USER003`, `GROUP001`.
pub(crate) fn user_update_fields(
    name: Option<&str>,
    alias: Option<&str>,
    group: Option<&str>,
) -> Result<(), Violation> {
    if !required(name, MAX_NAME) {
        return Err(Violation::new(ErrorCode::User002, "name"));
    }
    if !at_most(alias, MAX_NAME) {
        return Err(Violation::new(ErrorCode::User003, "alias"));
    }
    if group.is_some_and(|g| !required(Some(g), MAX_NAME)) {
        return Err(Violation::new(ErrorCode::Group001, "targetGroupId"));
    }
    Ok(())
}

/// Checks a user update.
pub fn user_update(update: &UserUpdate) -> Result<(), BizError> {
    user_update_fields(
        Some(update.name.expose()),
        update.alias.as_set().map(Sensitive::expose),
        update.target_group_id.as_ref().map(|g| g.as_str()),
    )
    .map_err(Into::into)
}

/// The rule of a cancellation's emails: each present and at most 350 (`USER001`).
pub(crate) fn cancel_emails<'a>(emails: impl Iterator<Item = &'a str>) -> Result<(), Violation> {
    for (i, email) in emails.enumerate() {
        if !required(Some(email), MAX_EMAIL) {
            return Err(Violation::new(
                ErrorCode::User001,
                format!("users[{i}].email"),
            ));
        }
    }
    Ok(())
}

/// Checks a cancellation.
pub fn cancel(scope: &CancelScope) -> Result<(), BizError> {
    match scope {
        CancelScope::AllPending => Ok(()),
        CancelScope::Emails(emails) => {
            if emails.is_empty() {
                return Err(BizError::invalid(ErrorCode::User001, "users"));
            }
            cancel_emails(emails.iter().map(|e| e.expose())).map_err(Into::into)
        }
    }
}

// -- announcements ------------------------------------------------------------------------------

/// The announcement fields the API checks, as read from a body: absent (`None`), or present
/// (a number that did not read is `Some(None)`).
#[derive(Default)]
pub(crate) struct AnnouncementView<'a> {
    pub(crate) play_service_id: Option<&'a str>,
    pub(crate) tts: Option<TtsView<'a>>,
    pub(crate) display: Option<DisplayView<'a>>,
}

#[derive(Default)]
pub(crate) struct TtsView<'a> {
    pub(crate) text: Option<&'a str>,
    pub(crate) speed: Option<Option<i64>>,
    pub(crate) pause1: Option<Option<i64>>,
    pub(crate) pause2: Option<Option<i64>>,
}

#[derive(Default)]
pub(crate) struct DisplayView<'a> {
    pub(crate) kind: Option<&'a str>,
    pub(crate) title: Option<&'a str>,
    pub(crate) header: Option<&'a str>,
    pub(crate) body: Option<&'a str>,
}

/// Speaking rates the API takes: 85 to 120 in steps of 5.
pub const TTS_SPEED: std::ops::RangeInclusive<u16> = 85..=120;
/// Pauses between sentences the API takes, ms: 300 to 900 in steps of 100.
pub const TTS_PAUSE1: std::ops::RangeInclusive<u16> = 300..=900;
/// Second pauses the API takes, ms: 100 to 500 in steps of 100.
pub const TTS_PAUSE2: std::ops::RangeInclusive<u16> = 100..=500;

fn stepped(value: Option<Option<i64>>, range: &std::ops::RangeInclusive<u16>, step: i64) -> bool {
    match value {
        None => true,
        Some(None) => false,
        Some(Some(n)) => {
            (i64::from(*range.start())..=i64::from(*range.end())).contains(&n) && n % step == 0
        }
    }
}

/// The rules of an announcement body, in the order of the pages' code table.
pub(crate) fn announcement_fields(a: &AnnouncementView<'_>) -> Result<(), Violation> {
    if !required(a.play_service_id, MAX_NAME) {
        return Err(Violation::new(ErrorCode::V1ann002, "playServiceId"));
    }
    if a.tts.is_none() && a.display.is_none() {
        return Err(Violation::new(ErrorCode::V1ann101, "tts"));
    }
    if let Some(tts) = &a.tts {
        if tts.text.is_none_or(blank) {
            return Err(Violation::new(ErrorCode::V1ann102, "tts.text"));
        }
        if !stepped(tts.speed, &TTS_SPEED, 5) {
            return Err(Violation::new(ErrorCode::V1ann103, "tts.speed"));
        }
        if !stepped(tts.pause1, &TTS_PAUSE1, 100) {
            return Err(Violation::new(ErrorCode::V1ann104, "tts.pause1"));
        }
        if !stepped(tts.pause2, &TTS_PAUSE2, 100) {
            return Err(Violation::new(ErrorCode::V1ann105, "tts.pause2"));
        }
    }
    if let Some(display) = &a.display {
        let known = display
            .kind
            .is_some_and(|k| !matches!(DisplayType::from(k), DisplayType::Other(_)));
        if !known {
            return Err(Violation::new(ErrorCode::V1ann201, "display.type"));
        }
        for (value, code, field) in [
            (display.title, ErrorCode::V1ann202, "display.title"),
            (display.header, ErrorCode::V1ann203, "display.header"),
            (display.body, ErrorCode::V1ann204, "display.body"),
        ] {
            if value.is_none_or(blank) {
                return Err(Violation::new(code, field));
            }
        }
    }
    Ok(())
}

/// Checks an announcement body: `V1ANN002` to `V1ANN204` (`V1ANN001`, an unparsable body, and
/// `V1ANN301`, a play the API does not allow, only the API can answer).
///
/// ```
/// use nugu_proxy::biz::{validate, Announcement, ErrorCode, Tts};
/// let slow = Announcement::new("com.example.attendance").tts(Tts::new("체크인").speed(87));
/// assert_eq!(validate::announcement(&slow).unwrap_err().code(), Some(&ErrorCode::V1ann103));
/// let empty = Announcement::new("com.example.attendance");
/// assert_eq!(validate::announcement(&empty).unwrap_err().code(), Some(&ErrorCode::V1ann101));
/// ```
pub fn announcement(a: &Announcement) -> Result<(), BizError> {
    let view = AnnouncementView {
        play_service_id: Some(&a.play_service_id),
        tts: a.tts.as_ref().map(|t| TtsView {
            text: Some(&t.text),
            speed: t.speed.map(|n| Some(i64::from(n))),
            pause1: t.pause1.map(|n| Some(i64::from(n))),
            pause2: t.pause2.map(|n| Some(i64::from(n))),
        }),
        display: a.display.as_ref().map(|d| DisplayView {
            kind: Some(d.kind.as_str()),
            title: Some(&d.title),
            header: Some(&d.header),
            body: Some(&d.body),
        }),
    };
    announcement_fields(&view).map_err(Into::into)
}

/// Where NUGU may post a result or a confirmation: `https`, no credentials in the URL, and for
/// an announcement's `callBack` the ports the API calls (80 and 443). Hosts in `http_hosts` (a
/// `dangerous_...` opt-out for a local emulator) may use `http` and any port.
pub(crate) fn callback_url(
    text: &str,
    field: &'static str,
    ports_80_443: bool,
    http_hosts: &[String],
) -> Result<reqwest::Url, BizError> {
    let refuse = |reason| BizError::Unsendable { field, reason };
    let url = reqwest::Url::parse(text.trim()).map_err(|_| refuse("not an absolute URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("credentials in the URL"));
    }
    let host = url.host_str().ok_or_else(|| refuse("no host"))?;
    let dangerous_http = http_hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
    match url.scheme() {
        "https" => {}
        "http" if dangerous_http => {}
        _ => return Err(refuse("not https")),
    }
    if ports_80_443 && !dangerous_http && !matches!(url.port_or_known_default(), Some(80 | 443)) {
        return Err(refuse("the API calls back on ports 80 and 443 only"));
    }
    Ok(url)
}
