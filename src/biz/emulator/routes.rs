//! The emulator's HTTP face: the documented paths, the token check, bodies and statuses.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State as AxumState};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::state::{Delivery, RawGroup, RawInvitation, RawUserUpdate, Refusal};
use super::{Fault, Shared};
use crate::biz::client::PUBLISHER_TOKEN_HEADER;
use crate::biz::model::{EmailList, GroupId, InvitationId, UserId};

type Ctx = AxumState<Arc<Shared>>;

/// NUGU's `callBack` of account linking (not a Biz API path: the publisher posts there
/// without `Publisher-Token`).
pub(crate) const LINK_CALLBACK: &str = "/emulator/link/callback";

/// The `errorCode` of a 400 the pages give no code for (an unreadable body or query).
pub(crate) const INVALID_REQUEST: &str = "INVALID_REQUEST";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/api/v1/enrolledUser/group",
            post(create_group).get(list_groups),
        )
        .route(
            "/api/v1/enrolledUser/group/{group_id}",
            get(get_group).put(update_group).delete(delete_group),
        )
        .route("/api/v1/enrolledUser/invitation", post(invite))
        .route("/api/v1/invitation", get(list_invitations))
        .route(
            "/api/v1/invitation/{invitation_id}",
            axum::routing::delete(cancel_invitation),
        )
        .route("/api/v1/enrolledUser/user", get(list_users))
        .route(
            "/api/v1/enrolledUser/user/{user_id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route(
            "/api/v2/enrolledUser/user/{token}/announcement",
            post(|s, p, q, h, b| announce(Audience::User, s, p, q, h, b)),
        )
        .route(
            "/api/v1/enrolledUser/group/{token}/announcement",
            post(|s, p, q, h, b| announce(Audience::Group, s, p, q, h, b)),
        )
        .route("/api/v1/sharedDevice/group", get(shared_device_groups))
        .route(
            "/api/v1/sharedDevice/group/{token}/announcement",
            post(|s, p, q, h, b| announce(Audience::SharedDevices, s, p, q, h, b)),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .route(LINK_CALLBACK, post(link_callback))
        .with_state(shared)
}

/// Counts the request, plays an injected fault, and checks the publisher token (403).
async fn gate(AxumState(shared): Ctx, request: Request, next: Next) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    match shared.take_fault() {
        Some(Fault::Status(status)) => return status.into_response(),
        Some(Fault::Delay(wait)) => tokio::time::sleep(wait).await,
        None => {}
    }
    let token_ok = request
        .headers()
        .get(PUBLISHER_TOKEN_HEADER)
        .is_some_and(|t| t.as_bytes() == shared.token.as_bytes());
    if !token_ok {
        return StatusCode::FORBIDDEN.into_response();
    }
    next.run(request).await
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ErrorBody {
            error_code: String,
        }
        let code = match self {
            Refusal::Code(code) => code.as_str().to_owned(),
            Refusal::BadRequest => INVALID_REQUEST.to_owned(),
            other => return other.status().into_response(),
        };
        (
            StatusCode::BAD_REQUEST,
            Json(ErrorBody { error_code: code }),
        )
            .into_response()
    }
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::Code(_) | Refusal::BadRequest => StatusCode::BAD_REQUEST,
            Refusal::NameTaken => StatusCode::UNAUTHORIZED,
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Refusal::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

type Answer = Result<Response, Refusal>;

/// A query string whose refusal (a repeated or unreadable parameter) is a 400 with an
/// `errorCode`, like every other 400 (axum's own is plain text).
struct Q<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|_| Refusal::BadRequest)?;
        Ok(Self(value))
    }
}

/// A path parameter, refused the same way (a segment that is not UTF-8 once decoded).
struct P(String);

impl<S: Send + Sync> FromRequestParts<S> for P {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        let Path(value) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Refusal::BadRequest)?;
        Ok(Self(value))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A JSON body: `415` unless the content type is JSON, `400` unless it parses.
fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, Refusal> {
    if !is_json(headers) {
        return Err(Refusal::UnsupportedMediaType);
    }
    serde_json::from_slice(bytes).map_err(|_| Refusal::BadRequest)
}

fn ok<T: Serialize>(status: StatusCode, value: T) -> Answer {
    Ok((status, Json(value)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    page: Option<String>,
    page_size: Option<String>,
}

impl Paging {
    /// `page` from 1 (default 1) and `pageSize` from 1 (default 20); anything else is 400.
    fn read(&self) -> Result<(usize, usize), Refusal> {
        let number = |value: &Option<String>, default: usize| match value {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(Refusal::BadRequest),
            },
        };
        Ok((
            number(&self.page, 1)?,
            number(&self.page_size, 20)?.min(1000),
        ))
    }
}

async fn create_group(AxumState(s): Ctx, headers: HeaderMap, bytes: Bytes) -> Answer {
    let raw: RawGroup = body(&headers, &bytes)?;
    let now = s.now();
    ok(StatusCode::CREATED, s.state().create_group(raw, now)?)
}

async fn update_group(AxumState(s): Ctx, P(id): P, headers: HeaderMap, bytes: Bytes) -> Answer {
    let raw: RawGroup = body(&headers, &bytes)?;
    ok(
        StatusCode::OK,
        s.state().update_group(&GroupId::new(id), raw)?,
    )
}

async fn delete_group(AxumState(s): Ctx, P(id): P) -> Answer {
    s.state().delete_group(&GroupId::new(id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_groups(AxumState(s): Ctx, Q(paging): Q<Paging>) -> Answer {
    let (page, size) = paging.read()?;
    ok(StatusCode::OK, s.state().list_groups(page, size))
}

async fn get_group(AxumState(s): Ctx, P(id): P) -> Answer {
    let id = (id != "unmappedUser").then(|| GroupId::new(id));
    ok(StatusCode::OK, s.state().group(id.as_ref())?)
}

async fn invite(AxumState(s): Ctx, headers: HeaderMap, bytes: Bytes) -> Answer {
    let raw: RawInvitation = body(&headers, &bytes)?;
    let now = s.now();
    ok(StatusCode::CREATED, s.state().invite(raw, now)?)
}

async fn list_invitations(AxumState(s): Ctx) -> Answer {
    let now = s.now();
    ok(StatusCode::OK, s.state().invitations(now))
}

async fn cancel_invitation(
    AxumState(s): Ctx,
    P(id): P,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let id = id.parse::<i64>().map_err(|_| Refusal::NotFound)?;
    // The body is optional: none, or an empty list, cancels every pending invitee.
    let emails: Vec<String> = if bytes.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        let list: EmailList = body(&headers, &bytes)?;
        list.users
            .into_iter()
            .map(|u| u.email.into_inner())
            .collect()
    };
    ok(StatusCode::OK, s.state().cancel(InvitationId(id), &emails)?)
}

async fn list_users(AxumState(s): Ctx, Q(paging): Q<Paging>) -> Answer {
    let (page, size) = paging.read()?;
    ok(StatusCode::OK, s.state().list_users(page, size))
}

async fn get_user(AxumState(s): Ctx, P(id): P) -> Answer {
    ok(StatusCode::OK, s.state().user(&UserId::new(id))?)
}

async fn update_user(AxumState(s): Ctx, P(id): P, headers: HeaderMap, bytes: Bytes) -> Answer {
    let raw: RawUserUpdate = body(&headers, &bytes)?;
    let now = s.now();
    ok(
        StatusCode::OK,
        s.state().update_user(&UserId::new(id), raw, now)?,
    )
}

async fn delete_user(AxumState(s): Ctx, P(id): P) -> Answer {
    s.state().delete_user(&UserId::new(id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackQuery {
    call_back: Option<String>,
}

/// Whom an announcement route addresses by the token in its path.
#[derive(Clone, Copy)]
enum Audience {
    /// `/api/v2/enrolledUser/user/{userApiToken}/announcement`: answers 200.
    User,
    /// `/api/v1/enrolledUser/group/{groupApiToken}/announcement`: answers 202.
    Group,
    /// `/api/v1/sharedDevice/group/{groupApiToken}/announcement`: answers 202.
    SharedDevices,
}

/// An announcement route: the body checked, the devices played (they have heard it before the
/// answer), the answer at once, the result posted to `callBack` afterwards.
async fn announce(
    audience: Audience,
    AxumState(s): Ctx,
    P(token): P,
    Q(query): Q<CallbackQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    if !is_json(&headers) {
        return Err(Refusal::UnsupportedMediaType);
    }
    let callback = query.call_back.filter(|u| !u.trim().is_empty());
    if let Some(url) = &callback {
        if !s.any_callback_port && !on_ports_nugu_calls(url) {
            return Err(Refusal::BadRequest);
        }
    }
    let (status, delivery) = {
        let mut state = s.state();
        match audience {
            Audience::User => (StatusCode::OK, state.announce_to_user(&token, &bytes)?),
            Audience::Group => (
                StatusCode::ACCEPTED,
                state.announce_to_group(&token, &bytes)?,
            ),
            Audience::SharedDevices => (
                StatusCode::ACCEPTED,
                state.announce_to_shared(&token, &bytes)?,
            ),
        }
    };
    if let Some(url) = callback {
        match delivery {
            Delivery::User(result) => s.post_later(url, result),
            Delivery::Group(result) => s.post_later(url, result),
            Delivery::Shared(result) => s.post_later(url, result),
        }
    }
    Ok(status.into_response())
}

/// Whether NUGU would call `url`: "80/443포트만 허용" (ports 80 and 443 only). The pages give
/// no code for another port; the emulator refuses it before playing anything, with its own
/// `INVALID_REQUEST`, so that a test learns it rather than waits for a result that never comes.
fn on_ports_nugu_calls(url: &str) -> bool {
    reqwest::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.port_or_known_default())
        .is_some_and(|port| matches!(port, 80 | 443))
}

async fn shared_device_groups(AxumState(s): Ctx) -> Answer {
    ok(StatusCode::OK, s.state().shared_groups())
}

/// The publisher posts the token it made: `status`, `userApiToken`, `confirmUrl?`, in the query
/// as the page documents them; a form body (what a browser form sends when its fields are
/// inputs) is read too. A parameter given twice with different values is refused: a receiver
/// that takes the first would read what a polluted `callBack` put there.
async fn link_callback(
    AxumState(s): Ctx,
    uri: axum::http::Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let pairs = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .chain(form_urlencoded::parse(if form { &bytes } else { &[] }));
    let (mut status, mut token, mut confirm) = (None, None, None);
    for (name, value) in pairs {
        let slot = match name.as_ref() {
            "status" => &mut status,
            "userApiToken" => &mut token,
            "confirmUrl" => &mut confirm,
            _ => continue,
        };
        match slot {
            Some(seen) if *seen != value => return Err(Refusal::BadRequest),
            _ => *slot = Some(value),
        }
    }
    let present = |v: Option<std::borrow::Cow<'_, str>>| {
        v.map(|v| v.into_owned()).filter(|v| !v.trim().is_empty())
    };
    let (Some(status), Some(token)) = (present(status), present(token)) else {
        return Err(Refusal::BadRequest);
    };
    if s.state().link_posted(&status, token, present(confirm)) {
        Ok((
            StatusCode::OK,
            "NUGU: the token was received; finish the invitation on NUGU's pages.",
        )
            .into_response())
    } else {
        Err(Refusal::NotFound)
    }
}
