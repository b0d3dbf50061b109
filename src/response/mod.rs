//! The response a play sends back: `resultCode`, `output` and `directives`.
//!
//! NUGU's rules, which [`ActionResponse`] keeps for you:
//! - `output` must name **every** parameter of the request, each as a plain string or null, with
//!   unchanged values echoed back: the builder starts from the request's parameters.
//! - Backend parameters that arrived null were left out of the request, yet must be in `output`
//!   too, on every answer: declare them once with a [`Play`](crate::Play) given to the layer,
//!   and [`ActionResponse::from_request`] names each one (null unless set), as the layer's own
//!   answers do. [`ActionResponse::output_null`] sets one by hand.
//! - `resultCode` is `OK` on success, otherwise an exception code defined in Play Builder; the
//!   HTTP status stays 200 either way.

mod directive;
mod fallback;

use std::fmt;
use std::io;

use bytes::Bytes;
use http_body_util::Full;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use smallvec::SmallVec;

pub use directive::{AudioStream, Directive};
pub use fallback::{unknown_action, UNKNOWN_ACTION};

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
    /// The request's parameters, echoed in `output` unless the handler set them.
    echoed: Echoed,
    /// The outputs of its own, in the order first set: the declared backend parameters the
    /// request left out (null until set), new values for echoed parameters, and names the
    /// request did not have. Inline: a handler sets a few, and building the answer
    /// should not allocate for them.
    own: SmallVec<[Own; 2]>,
    directives: Vec<Directive>,
}

/// The parameters a response echoes, read from the request when the body is written.
#[derive(Clone)]
enum Echoed {
    /// [`ActionResponse::from_request`]: the request itself (a reference count, no copy).
    Request(ActionRequest),
    /// [`ActionResponse::from_parameters`]: the names and values, as spans of the source.
    Spans(ByteString, Box<[(Span, Option<Span>)]>),
}

impl Echoed {
    /// The echoed names and values, in the request's order.
    fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        let (src, spans) = match self {
            Echoed::Request(request) => {
                let (src, spans) = request.parameters().spans();
                (src, Either::Left(spans))
            }
            Echoed::Spans(src, spans) => (src, Either::Right(spans.iter().copied())),
        };
        spans.map(move |(name, value)| (name.get(src), value.map(|value| value.get(src))))
    }
}

/// An output the handler set, or a declared backend parameter the request left out.
#[derive(Clone)]
struct Own {
    key: Text,
    value: Option<Text>,
    /// The position of `key` among the echoed parameters, if the request has it: the value
    /// goes there, in the request's order.
    echoes: Option<usize>,
}

/// One of two iterators of the same items.
enum Either<L, R> {
    Left(L),
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(iter) => iter.next(),
            Either::Right(iter) => iter.next(),
        }
    }
}

impl ActionResponse {
    /// A successful (`OK`) response whose `output` echoes every parameter of `request`, and
    /// names as null each backend parameter the play declared for the action
    /// ([`Play`](crate::Play), attached by the layer) that the request left out.
    pub fn from_request(request: &ActionRequest) -> Self {
        let mut response = Self::echoing(Echoed::Request(request.clone()));
        // Null outputs of their own, first in line: the handler's value replaces one in place.
        for name in request.declared_parameters() {
            if request.parameters().get(name).is_none() {
                response.own.push(Own {
                    key: Text::from(&**name),
                    value: None,
                    echoes: None,
                });
            }
        }
        response
    }

    /// A successful (`OK`) response whose `output` echoes `parameters` (a bare view of them:
    /// no declared backend parameter is added, see [`ActionResponse::from_request`]).
    pub fn from_parameters(parameters: Parameters<'_>) -> Self {
        let (src, spans) = parameters.spans();
        Self::echoing(Echoed::Spans(src.clone(), spans.collect()))
    }

    fn echoing(echoed: Echoed) -> Self {
        Self {
            result_code: Text::from(OK),
            echoed,
            own: SmallVec::new(),
            directives: Vec::new(),
        }
    }

    /// Sets `output[key]` to `value`, adding the key if the request did not have it.
    pub fn output(mut self, key: &str, value: impl AsRef<str>) -> Self {
        // Borrowed, not `Into<String>`: a short value is stored inline without allocating.
        self.set(key, Some(Text::from(value.as_ref())));
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

    fn set(&mut self, key: &str, value: Option<Text>) {
        if let Some(own) = self.own.iter_mut().find(|own| *own.key == *key) {
            own.value = value;
            return;
        }
        let echoes = self.echoed.iter().position(|(echoed, _)| echoed == key);
        self.own.push(Own {
            key: Text::from(key),
            value,
            echoes,
        });
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

    /// The `output` entries, in order: the request's parameters (with the values the handler
    /// set in their place), then the names the handler added.
    fn outputs(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        let echoed = self.echoed.iter().enumerate().map(|(i, (k, v))| {
            match self.own.iter().find(|own| own.echoes == Some(i)) {
                Some(own) => (k, own.value.as_deref()),
                None => (k, v),
            }
        });
        let added = self
            .own
            .iter()
            .filter(|own| own.echoes.is_none())
            .map(|own| (&*own.key, own.value.as_deref()));
        echoed.chain(added)
    }

    /// The response body as JSON.
    pub fn to_json(&self) -> Bytes {
        // The body goes into one allocation of its exact size: a buffer grown from empty
        // reallocates, and one left with spare capacity costs `Bytes` a second allocation. Most
        // bodies fit in a buffer on the stack, copied from there; larger ones are counted first.
        let mut stack = StackBuffer::new();
        if self.write_json(&mut stack).is_ok() {
            return Bytes::copy_from_slice(stack.written());
        }
        let mut len = Counter(0);
        let mut json = match self.write_json(&mut len) {
            Ok(()) => Vec::with_capacity(len.0),
            Err(_) => return Bytes::new(),
        };
        // Every part is a string, a number or a serde_json::Value, and neither a Vec nor the
        // counter fails: this cannot fail either.
        match self.write_json(&mut json) {
            Ok(()) => Bytes::from(json),
            Err(_) => Bytes::new(),
        }
    }

    /// Writes the body: the JSON the `Serialize` implementation gives, written directly (a
    /// string with nothing to escape is copied as it is).
    fn write_json(&self, out: &mut impl io::Write) -> io::Result<()> {
        out.write_all(br#"{"version":"2.0","resultCode":"#)?;
        write_string(out, &self.result_code)?;
        out.write_all(br#","output":{"#)?;
        for (i, (key, value)) in self.outputs().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write_string(out, key)?;
            out.write_all(b":")?;
            match value {
                Some(value) => write_string(out, value)?,
                None => out.write_all(b"null")?,
            }
        }
        out.write_all(b"}")?;
        if !self.directives.is_empty() {
            out.write_all(br#","directives":"#)?;
            serde_json::to_writer(&mut *out, &self.directives)?;
        }
        out.write_all(b"}")
    }

    /// The HTTP response: status 200, `Content-Type: application/json`.
    pub fn into_http(self) -> http::Response<Full<Bytes>> {
        json_response(http::StatusCode::OK, self.to_json())
    }
}

/// Writes `s` as a JSON string: as it is between quotes when nothing in it needs escaping,
/// else escaped by serde_json.
fn write_string(out: &mut impl io::Write, s: &str) -> io::Result<()> {
    // Without a short cut, so that the compiler can check many bytes at once.
    let plain = !s.bytes().fold(false, |escape, b| {
        escape | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.write_all(b"\"")?;
        out.write_all(s.as_bytes())?;
        out.write_all(b"\"")
    } else {
        Ok(serde_json::to_writer(out, s)?)
    }
}

/// The size of the buffer [`ActionResponse::to_json`] writes a body into first, on the stack:
/// a typical body is a few hundred bytes, one with an `AudioPlayer.Play` directive under a
/// kilobyte.
const STACK_BUFFER: usize = 2048;

/// A buffer of [`STACK_BUFFER`] bytes, filled from the start.
struct StackBuffer {
    buf: [u8; STACK_BUFFER],
    len: usize,
}

impl StackBuffer {
    fn new() -> Self {
        Self {
            buf: [0; STACK_BUFFER],
            len: 0,
        }
    }

    fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Each write is whole or fails (`WriteZero`) once the buffer is full.
impl io::Write for StackBuffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let end = self.len + data.len();
        let Some(free) = self.buf.get_mut(self.len..end) else {
            return Err(io::ErrorKind::WriteZero.into());
        };
        free.copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An `io::Write` that only counts the bytes written to it.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Serialize for ActionResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("version", "2.0")?;
        map.serialize_entry("resultCode", &self.result_code)?;
        map.serialize_entry("output", &Output(self))?;
        if !self.directives.is_empty() {
            map.serialize_entry("directives", &self.directives)?;
        }
        map.end()
    }
}

/// A response's `output` object.
struct Output<'a>(&'a ActionResponse);

impl Serialize for Output<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.outputs())
    }
}

impl fmt::Debug for ActionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Outputs carry what the play says back, often the enrolled user's name: show each
        // value's size, as `Parameter`'s Debug does.
        f.debug_struct("ActionResponse")
            .field("result_code", &self.result_code)
            .field("output", &DebugOutput(self))
            .field("directives", &self.directives)
            .finish()
    }
}

/// A response's `output` names, with the size of each value.
struct DebugOutput<'a>(&'a ActionResponse);

impl fmt::Debug for DebugOutput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let output = self
            .0
            .outputs()
            .map(|(k, v)| (k, v.map(|v| format!("<{} bytes>", v.len()))));
        f.debug_map().entries(output).finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Responses with every kind of output: echoed, replaced, added, null, escaped, long.
    fn responses() -> Vec<ActionResponse> {
        let request = ActionRequest::from_slice(
            r#"{"version":"2.0","context":{},"action":{"actionName":"a","parameters":{
              "place":{"type":"LOC","value":"본사 3층"},"esc\"aped\n":{"value":"\u0001\\ \u2028"},
              "none":{"type":null,"value":null},"n":{"value":5},"":{"value":""}}}}"#,
        )
        .unwrap();
        let empty = ActionRequest::from_slice(
            br#"{"version":"2.0","context":{},"action":{"actionName":"a"}}"#,
        )
        .unwrap();
        let every_byte: String = (0..=0x7f_u8).map(char::from).collect();
        // Larger than the stack buffer: written through the counted path.
        let large = (0..100).fold(ActionResponse::from_request(&request), |response, i| {
            response.output(&format!("backendParameter{i:03}"), format!("값 {i}"))
        });
        let mut declared = request.clone();
        crate::Play::new()
            .action("a", ["place", "left \"out\"", "set", "none"])
            .attach(&mut declared);
        vec![
            large,
            ActionResponse::from_request(&declared)
                .output("set", "x")
                .output("place", "y"),
            ActionResponse::from_request(&request),
            ActionResponse::from_parameters(request.parameters()),
            ActionResponse::from_request(&request)
                .output("none", "filled")
                .output(
                    "place",
                    "a value longer than the twenty-three bytes kept inline",
                )
                .output_null("n")
                .output("added \"one\"", "\t")
                .output_null("added null")
                .output("added \"one\"", &every_byte)
                .exception("NOT_\u{1}ENROLLED"),
            ActionResponse::from_request(&empty),
            ActionResponse::from_request(&empty)
                .output(&every_byte, "𝄞 \u{2028}")
                .directive(Directive::audio_play(
                    AudioStream::new("https://cdn.example.com/\"a\".m4a", "t\n")
                        .progress_report(1, 2),
                ))
                .directive(Directive::custom(
                    serde_json::json!({"type": "X", "s": "\u{0}"}),
                )),
        ]
    }

    /// Handlers return responses from futures that move between threads (axum, tower).
    #[test]
    fn a_response_is_send_and_sync() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<ActionResponse>();
    }

    /// `to_json` writes by hand what the `Serialize` implementation describes.
    #[test]
    fn to_json_is_the_serialized_response() {
        for response in responses() {
            let expected = serde_json::to_vec(&response).unwrap();
            assert_eq!(
                response.to_json(),
                expected,
                "{}",
                String::from_utf8_lossy(&expected)
            );
        }
    }

    /// A body too large for the stack buffer is counted first, so that its buffer is allocated
    /// at its final size: no reallocation, and `Bytes` takes it without a second allocation.
    #[test]
    fn the_counted_length_is_exact() {
        let sizes: Vec<usize> = responses().iter().map(|r| r.to_json().len()).collect();
        assert!(sizes.iter().any(|&size| size > STACK_BUFFER), "{sizes:?}");
        for response in responses() {
            let mut counted = Counter(0);
            response.write_json(&mut counted).unwrap();
            let mut written = Vec::new();
            response.write_json(&mut written).unwrap();
            assert_eq!(counted.0, written.len());
        }
    }
}
