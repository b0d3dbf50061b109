//! The response a play sends back: `resultCode`, `output` and `directives`.
//!
//! NUGU's rules, which [`ActionResponse`] keeps for you:
//! - `output` must name **every** parameter of the request, each as a plain string or null, with
//!   unchanged values echoed back: the builder starts from the request's parameters.
//! - Backend parameters that arrived null were left out of the request, yet must be in `output`
//!   too: set them with [`ActionResponse::output`] or [`ActionResponse::output_null`].
//! - `resultCode` is `OK` on success, otherwise an exception code defined in Play Builder; the
//!   HTTP status stays 200 either way.

mod directive;

use std::fmt;

use bytes::Bytes;
use http_body_util::Full;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

pub use directive::{AudioStream, Directive};

use bytestring::ByteString;

use crate::request::{ActionRequest, Parameters, Span, Text};

/// The `resultCode` of success.
pub const OK: &str = "OK";

/// A NUGU backend-proxy response, built from the request it answers.
///
/// ```
/// use nugu_proxy::{ActionRequest, ActionResponse};
///
/// let request = ActionRequest::from_slice(br#"{"version":"2.0","context":{},
///   "action":{"actionName":"check_in","parameters":{"place":{"type":"LOC","value":"HQ"}}}}"#).unwrap();
///
/// let response = ActionResponse::from_request(&request)
///     .output("userName", "홍길동")
///     .output("checkInTime", "09:02");
/// let json: serde_json::Value = serde_json::from_slice(&response.to_json()).unwrap();
/// assert_eq!(json["resultCode"], "OK");
/// assert_eq!(json["output"]["place"], "HQ"); // echoed
/// assert_eq!(json["output"]["userName"], "홍길동");
///
/// let http = ActionResponse::from_request(&request).exception("NOT_ENROLLED").into_http();
/// assert_eq!(http.status(), 200);
/// assert_eq!(http.headers()["content-type"], "application/json");
/// ```
#[derive(Clone)]
pub struct ActionResponse {
    result_code: Text,
    /// The source of the request this answers: echoed names and values are spans of it.
    echoed: ByteString,
    output: Vec<(Str, Option<Str>)>,
    directives: Vec<Directive>,
}

/// An output name or value: a span of the request it echoes (no copy), or the handler's own.
#[derive(Clone)]
enum Str {
    Echo(Span),
    Own(Text),
}

impl Str {
    fn get<'a>(&'a self, echoed: &'a ByteString) -> &'a str {
        match self {
            Str::Echo(span) => span.get(echoed),
            Str::Own(text) => text,
        }
    }
}

impl ActionResponse {
    /// A successful (`OK`) response whose `output` echoes every parameter of `request`.
    pub fn from_request(request: &ActionRequest) -> Self {
        Self::from_parameters(request.parameters())
    }

    /// A successful (`OK`) response whose `output` echoes `parameters`.
    pub fn from_parameters(parameters: Parameters<'_>) -> Self {
        let (echoed, spans) = parameters.spans();
        // Room for the outputs a handler adds (backend parameters left out when null), so that
        // the first `output` call does not reallocate.
        let mut output = Vec::with_capacity(spans.len() + 4);
        output.extend(spans.map(|(name, value)| (Str::Echo(name), value.map(Str::Echo))));
        Self {
            result_code: Text::from(OK),
            echoed: echoed.clone(),
            output,
            directives: Vec::new(),
        }
    }

    /// Sets `output[key]` to `value`, adding the key if the request did not have it.
    pub fn output(mut self, key: &str, value: impl AsRef<str>) -> Self {
        // Borrowed, not `Into<String>`: a short value is stored inline without allocating.
        self.set(key, Some(Str::Own(Text::from(value.as_ref()))));
        self
    }

    /// Sets `output[key]` to null, adding the key if the request did not have it (a backend
    /// parameter NUGU left out because it was null).
    ///
    /// ```
    /// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"a"},"context":{}}"#).unwrap();
    /// let response = nugu_proxy::ActionResponse::from_request(&request).output_null("reason");
    /// assert_eq!(response.output_value("reason"), Some(None));
    /// ```
    pub fn output_null(mut self, key: &str) -> Self {
        self.set(key, None);
        self
    }

    fn set(&mut self, key: &str, value: Option<Str>) {
        let echoed = &self.echoed;
        match self.output.iter_mut().find(|(k, _)| k.get(echoed) == key) {
            Some((_, slot)) => *slot = value,
            None => self.output.push((Str::Own(Text::from(key)), value)),
        }
    }

    /// Answers with an exception code defined in Play Builder instead of `OK`, so the speaker
    /// plays that exception's prompt. (Any code Play Builder does not know, the empty one
    /// included, plays the default failure prompt.)
    pub fn exception(mut self, code: impl Into<String>) -> Self {
        self.result_code = Text::from(code.into());
        self
    }

    /// Adds a directive, e.g. [`Directive::audio_play`].
    pub fn directive(mut self, directive: Directive) -> Self {
        self.directives.push(directive);
        self
    }

    /// The `resultCode` so far.
    pub fn result_code(&self) -> &str {
        &self.result_code
    }

    /// `output[key]`: `None` when the key is absent, `Some(None)` when it is null.
    pub fn output_value(&self, key: &str) -> Option<Option<&str>> {
        self.outputs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The `output` entries, in order.
    fn outputs(&self) -> impl Iterator<Item = (&str, Option<&str>)> + Clone {
        let echoed = &self.echoed;
        self.output
            .iter()
            .map(move |(k, v)| (k.get(echoed), v.as_ref().map(|v| v.get(echoed))))
    }

    /// The response body as JSON.
    pub fn to_json(&self) -> Bytes {
        // Sized up front: growing the Vec from empty costs several reallocations per response.
        let estimate = 64
            + self
                .outputs()
                .map(|(k, v)| k.len() + v.map_or(4, str::len) + 6)
                .sum::<usize>();
        let mut json = Vec::with_capacity(estimate + 256 * self.directives.len());
        // Every part is a string, a number or a serde_json::Value: writing to a Vec cannot fail.
        match serde_json::to_writer(&mut json, self) {
            Ok(()) => Bytes::from(json),
            Err(_) => Bytes::new(),
        }
    }

    /// The HTTP response: status 200, `Content-Type: application/json`.
    pub fn into_http(self) -> http::Response<Full<Bytes>> {
        json_response(http::StatusCode::OK, self.to_json())
    }
}

impl Serialize for ActionResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("version", "2.0")?;
        map.serialize_entry("resultCode", &self.result_code)?;
        map.serialize_entry("output", &Output(self.outputs()))?;
        if !self.directives.is_empty() {
            map.serialize_entry("directives", &self.directives)?;
        }
        map.end()
    }
}

struct Output<I>(I);

impl<'a, I: Iterator<Item = (&'a str, Option<&'a str>)> + Clone> Serialize for Output<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.clone())
    }
}

impl fmt::Debug for ActionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Outputs carry what the play says back, often the enrolled user's name: show each
        // value's size, as `Parameter`'s Debug does.
        let output = self
            .outputs()
            .map(|(k, v)| (k, v.map(|v| format!("<{} bytes>", v.len()))));
        f.debug_struct("ActionResponse")
            .field("result_code", &self.result_code)
            .field("output", &DebugMap(output))
            .field("directives", &self.directives)
            .finish()
    }
}

struct DebugMap<I>(I);

impl<K: fmt::Debug, V: fmt::Debug, I: Iterator<Item = (K, V)> + Clone> fmt::Debug for DebugMap<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.clone()).finish()
    }
}

impl From<ActionResponse> for http::Response<Full<Bytes>> {
    fn from(response: ActionResponse) -> Self {
        response.into_http()
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for ActionResponse {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http().map(axum_core::body::Body::new)
    }
}

/// A JSON response with `status`.
pub(crate) fn json_response(status: http::StatusCode, body: Bytes) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
