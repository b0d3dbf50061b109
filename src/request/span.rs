//! Where the strings of a parsed request lie.
//!
//! A request keeps one buffer, its *source*: the body as it arrived, followed by the decoded
//! form of any string that had escapes (rare in NUGU traffic). Every string of the model is a
//! [`Span`] of that buffer, resolved by the accessors. Parsing therefore makes no per-string
//! copy or reference count: measured side by side, the copies and counts of a string-per-field
//! model were the largest cost of the parse after the scan itself.

use bytestring::ByteString;

/// The largest source a request may have: spans are two `u32`s, and the source can be up to
/// twice the body (the body, then its decoded strings).
pub(crate) const MAX_SOURCE: usize = u32::MAX as usize;

/// A byte range of a request's source, always on character boundaries.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The range `start..end`; callers keep the source within [`MAX_SOURCE`].
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Saturating rather than wrapping: an out-of-range span resolves to "", never to
        // another string.
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            end: clamp(end),
        }
    }

    /// The text of this span in `src` ("" if it does not lie there, which the parsers never
    /// produce).
    pub(crate) fn get(self, src: &str) -> &str {
        src.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// Builds a source from strings that are not slices of a body (the serde path): each string is
/// appended and its span returned.
#[derive(Default)]
pub(crate) struct SourceBuilder {
    buf: String,
}

impl SourceBuilder {
    pub(crate) fn push(&mut self, s: &str) -> Span {
        let start = self.buf.len();
        self.buf.push_str(s);
        Span::new(start, self.buf.len())
    }

    /// The text of `span`, pushed earlier.
    pub(crate) fn get(&self, span: Span) -> &str {
        span.get(&self.buf)
    }

    /// The source; `None` when it outgrew [`MAX_SOURCE`].
    pub(crate) fn finish(self) -> Option<ByteString> {
        (self.buf.len() <= MAX_SOURCE).then(|| ByteString::from(self.buf))
    }
}

/// Why a request could not be built: its strings would not fit a source.
pub(crate) const TOO_LARGE: &str = "the request's strings exceed the 4 GiB a request may hold";
