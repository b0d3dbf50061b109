//! The checks of a request, before and after its body is read. Plain functions: the service and
//! its future only sequence them.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::request::Parts;
use http::{HeaderMap, Method, Request};
use http_body_util::Full;

use super::auth::{self, Authentication, Credentials};
use super::layer::Config;
use super::stand_in::StandInUser;
use super::untrusted;
use crate::rejection::{
    ActionMismatch, InsecureTransport, InvalidCredentials, MalformedRequest, MethodNotAllowed,
    MissingCredentials, PayloadTooLarge, PrivatePlayRejection, UnsupportedMediaType,
};
use crate::response::ActionResponse;
use crate::transport::ConnectionInfo;
use crate::ActionRequest;

/// Who the request is, as far as its headers tell.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Caller {
    /// A method the layer was told to pass through: forwarded without parsing.
    NotAnAction,
    Known(Authentication),
    /// No credentials, but Play Builder test calls are allowed: the body decides.
    MaybePlayBuilder,
}

/// The checks that need only the head of the request.
pub(crate) fn head<B>(
    request: &Request<B>,
    config: &Config,
) -> Result<Caller, PrivatePlayRejection> {
    let https = request
        .extensions()
        .get::<ConnectionInfo>()
        .is_some_and(ConnectionInfo::is_https);
    if !https && !config.insecure_transport {
        return Err(InsecureTransport.into());
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > config.body_limit as u64) {
        return Err(PayloadTooLarge::new(config.body_limit).into());
    }
    if request.method() != Method::POST {
        return if config.pass_through.contains(request.method()) {
            Ok(Caller::NotAnAction)
        } else {
            Err(MethodNotAllowed.into())
        };
    }
    if !is_json(request) {
        return Err(UnsupportedMediaType.into());
    }
    let Some(key) = &config.api_key else {
        return Ok(Caller::Known(Authentication::Disabled));
    };
    match auth::check(request.headers(), key) {
        Credentials::Valid => Ok(Caller::Known(Authentication::ApiKey)),
        Credentials::Invalid => Err(InvalidCredentials.into()),
        Credentials::Missing if config.play_builder_calls => Ok(Caller::MaybePlayBuilder),
        Credentials::Missing => Err(MissingCredentials.into()),
    }
}

fn is_json<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json")
        })
}

/// What to do once the body is read.
pub(crate) enum Verdict {
    /// Hand this request to the inner service.
    Forward(Request<Full<Bytes>>),
    /// Answer with this response, without the inner service.
    Answer(http::Response<Full<Bytes>>),
}

/// The checks that need the body; on success, the request for the inner service with the
/// typed values in its extensions.
pub(crate) fn body(
    mut parts: Parts,
    mut body: Bytes,
    caller: Caller,
    config: &Config,
) -> Result<Verdict, PrivatePlayRejection> {
    let authentication = match caller {
        Caller::NotAnAction => {
            // Read (within the limit) and dropped: an unauthenticated body must not reach a
            // handler that reads bodies as NUGU's (`Json<Value>` under `any()`).
            drop(body);
            return Ok(Verdict::Forward(forward(parts, Bytes::new())));
        }
        Caller::Known(authentication) => authentication,
        Caller::MaybePlayBuilder => Authentication::PlayBuilderTestCall,
    };
    let mut action = ActionRequest::from_bytes(body.clone()).map_err(MalformedRequest::from)?;
    if authentication == Authentication::PlayBuilderTestCall {
        if !action.session().is_play_builder_request() {
            return Err(MissingCredentials.into());
        }
        // The body is unauthenticated: nothing in it may speak for an enrolled user, neither in
        // the extensions nor in the bytes the inner service reads. The request put into the
        // extensions is the parse of the body forwarded, so the two agree.
        body = untrusted::without_profile(&body).map_err(MalformedRequest::from)?;
        action = ActionRequest::from_bytes(body.clone()).map_err(MalformedRequest::from)?;
    }
    if last_segment(parts.uri.path()) != action.action_name() {
        return Err(ActionMismatch.into());
    }
    config.play.attach(&mut action);
    let stand_in =
        authentication == Authentication::PlayBuilderTestCall && config.play_builder_stand_in;
    if let Some(code) = &config.enrolled_only {
        if action.enrolled_user().is_none() && !stand_in {
            let response = ActionResponse::from_request(&action).exception(code.as_str());
            return Ok(Verdict::Answer(response.into_http()));
        }
    }
    let extensions = &mut parts.extensions;
    if let Some(private_play) = action.private_play() {
        if let Some(user) = private_play.enrolled_user() {
            extensions.insert(user.clone());
        }
        extensions.insert(private_play.clone());
    }
    if stand_in {
        extensions.insert(StandInUser::new());
    }
    extensions.insert(authentication);
    extensions.insert(action);
    Ok(Verdict::Forward(forward(parts, body)))
}

/// The request for the inner service, framed by the body it now carries: the client's
/// `Content-Length` or `Transfer-Encoding` described the body as sent, which the layer may have
/// changed, and a handler that forwards the request as it is (hyper, reqwest) would send a
/// length that lies, or hang its upstream waiting for bytes that never come.
fn forward(mut parts: Parts, body: Bytes) -> Request<Full<Bytes>> {
    let headers = &mut parts.headers;
    headers.remove(TRANSFER_ENCODING);
    if body.is_empty() {
        headers.remove(CONTENT_LENGTH);
    } else if !states_length(headers, body.len()) {
        // `HeaderValue::from` allocates: kept off the common path, where the header is right.
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    Request::from_parts(parts, Full::new(body))
}

/// Whether `headers` hold exactly one `Content-Length`, written as `len` in plain decimal (no
/// leading zero), as for any body the layer forwards unchanged.
fn states_length(headers: &HeaderMap, len: usize) -> bool {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let mut digits = [0u8; 20]; // usize::MAX has 20 digits
    let mut start = digits.len();
    let mut rest = len;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    value.as_bytes() == &digits[start..]
}

/// The action name in `/prefix/.../{actionName}`: the Web URL registered in Play Builder may
/// carry a path prefix.
fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
