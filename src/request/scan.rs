//! The hot-path parser: a scanner that knows the shape of a NUGU request.
//!
//! serde's derived deserializers pay a visitor round trip for every key and value; for a 1.5 KB
//! request that costs about twice what serde_json needs merely to skip the document. This
//! scanner walks the body once, skips what the model keeps raw or ignores at the speed of a
//! skip, and builds the model's structs directly, with strings as slices of the body.
//!
//! It is an accelerator, not an authority: on anything it is unsure of (malformed JSON, a wrong
//! type, a missing or duplicate field, a key with escapes, deep nesting) it gives up with
//! [`Bail`], and the serde path parses the body instead, producing either the same value or the
//! error with its JSON path. So it may be stricter than serde, never looser; the differential
//! tests below and the fuzz target hold it to that.
//!
//! What it skips it checks as `serde_json::Value` reads it, not as serde skips it (serde_json's
//! skip lets lone surrogate escapes, numbers out of `f64` range and any depth through): the
//! layer forwards the body, and a handler behind it that reads `Json<Value>` must not fail on
//! a request the layer accepted. Where the scanner gives up for that reason, [`readable`] has
//! the serde path refuse the body.

use bytestring::ByteString;

use super::action::has_duplicate;
use super::model::{flag_word, Model, RequestModel};
use super::profile::ServiceType;
use super::span::Span;

/// The scanner gave up; the serde path decides.
pub(super) struct Bail;

pub(super) type R<T> = Result<T, Bail>;

/// serde_json's own recursion limit: it refuses the 128th nested array or object (counting the
/// outermost), so the scanner leaves that depth to it.
const MAX_DEPTH: u32 = 128;

/// Parses the body in `src` into `out`, in place (both lie in the request's one allocation:
/// moving the model out of a return value, into `RequestFields` and into the `Arc` measured
/// as the largest cost after the scan itself on the minimal body). On success `src` becomes the
/// request's source: the body, followed by the decoded form of any escaped string. On `false`
/// the serde path must decide; `src` is then still the body, and `out` holds no meaning.
pub(super) fn action_request(src: &mut ByteString, out: &mut RequestModel) -> bool {
    let body: &str = src;
    let mut scanner = Scanner {
        src: body,
        bytes: body.as_bytes(),
        pos: 0,
        depth: 0,
        decoded: String::new(),
    };
    scanner.ws();
    let scanned = RequestModel::scan(&mut scanner, out).is_ok() && {
        scanner.ws();
        scanner.pos == scanner.bytes.len()
    };
    if !scanned {
        return false;
    }
    let decoded = scanner.decoded;
    if decoded.is_empty() {
        return !has_duplicate(parameter_names(src, out));
    }
    // Escapes are rare: the body is copied once, with the decoded strings after it.
    let mut joined = String::with_capacity(src.len() + decoded.len());
    joined.push_str(src);
    joined.push_str(&decoded);
    if has_duplicate(parameter_names(&joined, out)) {
        return false;
    }
    *src = ByteString::from(joined);
    true
}

fn parameter_names<'a>(
    src: &'a str,
    found: &'a RequestModel,
) -> impl ExactSizeIterator<Item = &'a str> + Clone {
    found
        .action
        .parameters
        .iter()
        .map(move |(name, _)| name.get(src))
}

pub(super) struct Scanner<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    /// The decoded forms of escaped strings; their spans start after the body.
    decoded: String,
}

/// A field key: the span between the quotes, and whether it holds escapes.
pub(super) struct Key<'a> {
    raw: &'a str,
    start: usize,
    escaped: bool,
}

/// Marks a struct field (its bit) as seen, rejecting a field seen twice as serde does.
pub(super) fn once(seen: &mut u32, bit: u32) -> R<()> {
    if *seen & bit != 0 {
        return Err(Bail);
    }
    *seen |= bit;
    Ok(())
}

/// Whether every field in `required` (a bit mask) was seen.
pub(super) fn has(seen: u32, required: u32) -> R<()> {
    if seen & required == required {
        Ok(())
    } else {
        Err(Bail)
    }
}

impl<'a> Scanner<'a> {
    // ---- the model's kinds of value (see `model.rs`) --------------------------------------

    pub(super) fn service_type(&mut self) -> R<ServiceType> {
        let (start, end, escaped) = self.string()?;
        let raw = &self.src[start..end];
        if escaped {
            let mut wire = String::new();
            decode(raw, &mut wire)?;
            Ok(ServiceType::from_wire(&wire))
        } else {
            Ok(ServiceType::from_wire(raw))
        }
    }

    // ---- values ----------------------------------------------------------------------------

    /// `null` or `f`'s value.
    pub(super) fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        if self.null()? {
            Ok(None)
        } else {
            f(self).map(Some)
        }
    }

    /// A JSON string, written into the model in place: its span in the body, or of its
    /// decoded form when it has escapes. (In place rather than returned: measured ~2% faster on
    /// the typical body, as the returned span went through memory.)
    pub(super) fn text_into(&mut self, out: &mut Span) -> R<()> {
        let (start, end, escaped) = self.string()?;
        *out = self.span(start, end, escaped)?;
        Ok(())
    }

    /// An object kept as raw JSON: its span.
    pub(super) fn raw_object_into(&mut self, out: &mut Span) -> R<()> {
        if self.bytes.get(self.pos) != Some(&b'{') {
            return Err(Bail);
        }
        let start = self.pos;
        self.skip()?;
        *out = Span::new(start, self.pos);
        Ok(())
    }

    /// A string, or a number or boolean as its JSON text.
    pub(super) fn scalar_into(&mut self, out: &mut Span) -> R<()> {
        match self.bytes.get(self.pos) {
            Some(b'"') => self.text_into(out),
            Some(b't' | b'f' | b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.skip()?;
                *out = Span::new(start, self.pos);
                Ok(())
            }
            _ => Err(Bail),
        }
    }

    /// An integer that fits an `i64`.
    pub(super) fn integer(&mut self) -> R<i64> {
        let start = self.pos;
        self.number()?;
        self.src[start..self.pos].parse().map_err(|_| Bail)
    }

    /// Consumes `null` if it is next.
    pub(super) fn null(&mut self) -> R<bool> {
        if self.bytes.get(self.pos) == Some(&b'n') {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// A flag: a boolean, `null` (false), or `"true"`/`"false"` in any letter case.
    pub(super) fn flag(&mut self) -> R<bool> {
        match self.bytes.get(self.pos) {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            Some(b'n') => self.literal(b"null").map(|()| false),
            Some(b'"') => {
                let (start, end, escaped) = self.string()?;
                if escaped {
                    return Err(Bail);
                }
                flag_word(&self.src[start..end]).ok_or(Bail)
            }
            _ => Err(Bail),
        }
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    pub(super) fn key_span(&mut self, key: Key<'_>) -> R<Span> {
        self.span(key.start, key.start + key.raw.len(), key.escaped)
    }

    fn span(&mut self, start: usize, end: usize, escaped: bool) -> R<Span> {
        if !escaped {
            return Ok(Span::new(start, end));
        }
        let at = self.bytes.len() + self.decoded.len();
        decode(&self.src[start..end], &mut self.decoded)?;
        Ok(Span::new(at, self.bytes.len() + self.decoded.len()))
    }

    /// Scans a string at the cursor; returns the span between its quotes and whether it has
    /// escapes (checked, not decoded).
    // Inlined into each caller (keys, values, skipped strings): as a call, its three results
    // went through memory and the typical parse took 1.27 us instead of 1.10 (measured side by
    // side). Inlining `text` as well measured slower again (1.21 us).
    #[inline(always)]
    fn string(&mut self) -> R<(usize, usize, bool)> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return Err(Bail);
        }
        let start = self.pos + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            at = find_special(self.bytes, at);
            match self.bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok((start, at, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    at = escape_end(self.bytes, at)?;
                }
                // A control character, or the end of the body.
                _ => return Err(Bail),
            }
        }
    }

    /// Skips any JSON value, checking it as strictly as serde_json reads a `Value` (or more).
    pub(super) fn skip(&mut self) -> R<()> {
        match self.bytes.get(self.pos) {
            Some(b'"') => {
                let (start, end, escaped) = self.string()?;
                if escaped {
                    check_escapes(&self.src[start..end])?;
                }
                Ok(())
            }
            Some(b'{') => self.object(|s, key| {
                if key.escaped {
                    check_escapes(key.raw)?;
                }
                s.skip()
            }),
            Some(b'[') => self.array(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(Bail),
        }
    }

    fn number(&mut self) -> R<()> {
        let b = self.bytes;
        let mut at = self.pos;
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        match b.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => at = digits(b, at),
            _ => return Err(Bail),
        }
        if b.get(at) == Some(&b'.') {
            let end = digits(b, at + 1);
            if end == at + 1 {
                return Err(Bail);
            }
            at = end;
        }
        let mut exponent = false;
        if matches!(b.get(at), Some(b'e' | b'E')) {
            exponent = true;
            at += 1;
            if matches!(b.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let end = digits(b, at);
            if end == at {
                return Err(Bail);
            }
            at = end;
        }
        // Only an exponent or some 309 digits reach past `f64::MAX`; serde_json, which a
        // handler reading `Value` uses, decides where exactly.
        if (exponent || at - self.pos > MAX_PLAIN_DIGITS)
            && serde_json::from_str::<f64>(&self.src[self.pos..at]).is_err()
        {
            return Err(Bail);
        }
        self.pos = at;
        Ok(())
    }

    fn array(&mut self) -> R<()> {
        self.enter()?;
        self.pos += 1; // '['
        self.ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return self.leave();
        }
        loop {
            self.skip()?;
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return self.leave();
                }
                _ => return Err(Bail),
            }
        }
    }

    /// Walks an object, handing each key to `field` with the cursor on its value; `field`
    /// must consume the value.
    pub(super) fn object(&mut self, field: impl FnMut(&mut Self, Key<'a>) -> R<()>) -> R<()> {
        self.members(Self::any_key, field)
    }

    /// An object of a model struct, whose field names are `known`: `field` gets each member's
    /// field as its bit (`1 << index in known`), or 0 for a name not in `known`. Field names
    /// with escapes are left to serde, which decodes them before matching.
    pub(super) fn fields(
        &mut self,
        known: &[&str],
        field: impl FnMut(&mut Self, u32) -> R<()>,
    ) -> R<()> {
        self.members(|s| s.known_key(known), field)
    }

    /// Walks an object: `key` reads each member's key, `field` consumes its value.
    #[inline(always)]
    fn members<K>(
        &mut self,
        mut key: impl FnMut(&mut Self) -> R<K>,
        mut field: impl FnMut(&mut Self, K) -> R<()>,
    ) -> R<()> {
        if self.bytes.get(self.pos) != Some(&b'{') {
            return Err(Bail);
        }
        self.enter()?;
        self.pos += 1;
        self.ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return self.leave();
        }
        loop {
            let key = key(self)?;
            self.ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(Bail);
            }
            self.pos += 1;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return self.leave();
                }
                _ => return Err(Bail),
            }
        }
    }

    /// Any key: its text between the quotes, and whether it has escapes.
    #[inline(always)]
    fn any_key(&mut self) -> R<Key<'a>> {
        let (start, end, escaped) = self.string()?;
        let src: &'a str = self.src;
        Ok(Key {
            raw: &src[start..end],
            start,
            escaped,
        })
    }

    /// A field key at the cursor, as its bit in `known` (0 for another name): each of `known`
    /// is compared in place, else the key is scanned like any string. Comparing in place skips
    /// the scan for the end of the string: measured side by side, the typical parse 4-6% faster
    /// (1.10-1.18 -> 1.02-1.11 us in 12 alternating runs). Returning the bit rather than the
    /// name spares the caller a second comparison of the name against its fields' names.
    #[inline(always)]
    fn known_key(&mut self, known: &[&str]) -> R<u32> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return Err(Bail);
        }
        let start = self.pos + 1;
        let rest = self.bytes.get(start..).unwrap_or_default();
        for (i, k) in known.iter().enumerate() {
            let n = k.len();
            if rest.get(n) == Some(&b'"') && rest.starts_with(k.as_bytes()) {
                self.pos = start + n + 1;
                return Ok(1 << i);
            }
        }
        // Not a known name as written (a name with escapes might still decode to one).
        let (_, _, escaped) = self.string()?;
        if escaped {
            return Err(Bail);
        }
        Ok(0)
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    fn leave(&mut self) -> R<()> {
        self.depth -= 1;
        Ok(())
    }

    fn ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }
}

/// The longest number without an exponent that cannot be out of `f64` range, with room to
/// spare (`f64::MAX` has 309 integer digits).
const MAX_PLAIN_DIGITS: usize = 300;

fn digits(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b'0'..=b'9')) {
        at += 1;
    }
    at
}

/// The index of the first `"`, `\` or control character at or after `at` (or `bytes.len()`).
/// Eight bytes at a time, as serde_json does.
fn find_special(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let found = has_zero(w ^ (ONES * u64::from(b'"')))
            | has_zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if found != 0 {
            // The lowest flagged byte is exact; only bytes above it can be false positives.
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// Checks the escape at `at` (a backslash) and returns the index after it.
fn escape_end(bytes: &[u8], at: usize) -> R<usize> {
    match bytes.get(at + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 2),
        Some(b'u') => {
            let hex = bytes.get(at + 2..at + 6).ok_or(Bail)?;
            if hex.iter().all(u8::is_ascii_hexdigit) {
                Ok(at + 6)
            } else {
                Err(Bail)
            }
        }
        _ => Err(Bail),
    }
}

/// Decodes a string's escapes, appending to `out`. Lone surrogates are left to serde.
fn decode(raw: &str, out: &mut String) -> R<()> {
    out.reserve(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let esc = &rest[i + 1..];
        let (c, used) = escape(esc)?;
        out.push(c);
        rest = &esc[used..];
    }
    out.push_str(rest);
    Ok(())
}

/// Checks a skipped string's escapes as serde_json checks a string it reads (a lone surrogate
/// fails), without decoding them. Only for strings with escapes: rare in NUGU's requests.
fn check_escapes(raw: &str) -> R<()> {
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        let esc = &rest[i + 1..];
        let (_, used) = escape(esc)?;
        rest = &esc[used..];
    }
    Ok(())
}

/// The character an escape stands for (`esc` follows its backslash), and the bytes it takes.
fn escape(esc: &str) -> R<(char, usize)> {
    Ok(match esc.as_bytes().first() {
        Some(b'"') => ('"', 1),
        Some(b'\\') => ('\\', 1),
        Some(b'/') => ('/', 1),
        Some(b'b') => ('\u{8}', 1),
        Some(b'f') => ('\u{c}', 1),
        Some(b'n') => ('\n', 1),
        Some(b'r') => ('\r', 1),
        Some(b't') => ('\t', 1),
        Some(b'u') => {
            let high = hex4(esc.get(1..5))?;
            if (0xD800..0xDC00).contains(&high) {
                if esc.get(5..7) != Some("\\u") {
                    return Err(Bail);
                }
                let low = hex4(esc.get(7..11))?;
                if !(0xDC00..0xE000).contains(&low) {
                    return Err(Bail);
                }
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                (char::from_u32(code).ok_or(Bail)?, 11)
            } else {
                (char::from_u32(high).ok_or(Bail)?, 5)
            }
        }
        _ => return Err(Bail),
    })
}

/// Whether `body` reads as a `serde_json::Value` (the error serde_json gives if not), keeping
/// nothing. The serde path checks what it skipped with it: serde_json skips lone surrogate
/// escapes, numbers out of `f64` range and any depth, which a handler reading `Value` refuses.
pub(super) fn readable(body: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<Readable>(body).map(drop)
}

/// Any JSON value, read (strings decoded, numbers parsed, nesting counted) and dropped.
struct Readable;

impl<'de> serde::Deserialize<'de> for Readable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Readable)
    }
}

impl<'de> serde::de::Visitor<'de> for Readable {
    type Value = Readable;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_str<E>(self, _: &str) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_unit<E>(self) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Readable, A::Error> {
        while seq.next_element::<Readable>()?.is_some() {}
        Ok(Readable)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Readable, A::Error> {
        while map.next_entry::<Readable, Readable>()?.is_some() {}
        Ok(Readable)
    }
}

fn hex4(digits: Option<&str>) -> R<u32> {
    let digits = digits.ok_or(Bail)?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Bail);
    }
    u32::from_str_radix(digits, 16).map_err(|_| Bail)
}

#[cfg(test)]
mod tests {
    use super::super::{ActionRequest, RequestFields};
    use super::*;
    use std::sync::Arc;

    /// The scanner's verdict must never differ from serde's: same value when it answers,
    /// and no answer where serde fails.
    fn agree(body: &str) {
        let slow = serde_json::from_str::<ActionRequest>(body);
        let mut src = ByteString::from(body.to_owned());
        let mut found = RequestModel::default();
        let fast = action_request(&mut src, &mut found)
            .then(|| ActionRequest(Arc::new(RequestFields::new(src, found))));
        match (fast, slow) {
            (Some(fast), Ok(slow)) => assert_eq!(
                serde_json::to_value(&fast).unwrap(),
                serde_json::to_value(&slow).unwrap(),
                "{body}"
            ),
            (Some(_), Err(e)) => panic!("scanner accepted what serde rejects ({e}): {body}"),
            (None, _) => {}
        }
    }

    fn fixtures() -> Vec<&'static str> {
        vec![
            include_str!("../../tests/fixtures/private_play_full.json"),
            include_str!("../../tests/fixtures/private_play_basic.json"),
            include_str!("../../tests/fixtures/biz_device.json"),
            include_str!("../../tests/fixtures/play_builder.json"),
            include_str!("../../tests/fixtures/play_builder_forged.json"),
            include_str!("../../tests/fixtures/null_parameters.json"),
            include_str!("../../tests/fixtures/audio_event.json"),
            include_str!("../../tests/fixtures/nugu_docs/api_reference_request.json"),
            include_str!("../../tests/fixtures/nugu_docs/backend_parameters.json"),
            include_str!("../../tests/fixtures/nugu_docs/enrolled_user_basic.json"),
            include_str!("../../tests/fixtures/nugu_docs/playback_failed.json"),
            include_str!("../../tests/fixtures/tolerance/string_booleans.json"),
            include_str!("../../tests/fixtures/tolerance/nulls_everywhere.json"),
            include_str!("../../tests/fixtures/tolerance/scalar_values.json"),
        ]
    }

    #[test]
    fn fixtures_take_the_fast_path_and_agree() {
        for body in fixtures() {
            let mut found = RequestModel::default();
            assert!(
                action_request(&mut ByteString::from(body.to_owned()), &mut found),
                "{body}"
            );
            agree(body);
        }
    }

    #[test]
    fn every_truncation_and_single_byte_change_agrees() {
        for body in fixtures() {
            for cut in 0..body.len() {
                if body.is_char_boundary(cut) {
                    agree(&body[..cut]);
                }
            }
            let bytes = body.as_bytes();
            for i in (0..bytes.len()).step_by(3) {
                for replacement in [b'"', b'\\', b'{', b'}', b',', b':', b'0', b'n', b' ', 1] {
                    let mut changed = bytes.to_vec();
                    changed[i] = replacement;
                    if let Ok(text) = String::from_utf8(changed) {
                        agree(&text);
                    }
                }
            }
        }
    }

    #[test]
    fn a_duplicate_found_after_decoding_is_reported_from_the_body() {
        // The scanner decodes `\u0070` into its decoded buffer; the body it hands serde must
        // still be the body, so that the error is serde's, with its path and position.
        let err = ActionRequest::from_slice(
            r#"{"version":"2.0","action":{"actionName":"a","parameters":{"\u0070":{},"p":{}}}}"#,
        )
        .unwrap_err();
        assert_eq!(err.path(), Some("action.parameters"), "{err}");
        assert!(
            err.to_string().contains("duplicate parameter name"),
            "{err}"
        );
        assert_eq!((err.line(), err.column()), (1, 77), "{err}");
    }

    #[test]
    fn what_is_skipped_reads_as_a_serde_json_value() {
        // Fast path (plain keys) and serde path (an escaped key) alike.
        for version in ["version", "\\u0076ersion"] {
            let body =
                |x: &str| format!(r#"{{"{version}":"2.0","action":{{"actionName":"a"}},"x":{x}}}"#);
            let refused = [
                (r#""\uDEAD""#.to_owned(), "lone leading surrogate"),
                (r#"{"\ud800":1}"#.to_owned(), "hex escape"),
                ("1e999".to_owned(), "number out of range"),
                (format!("1{}", "0".repeat(400)), "number out of range"),
                (
                    format!("{}{}", "[".repeat(127), "]".repeat(127)),
                    "recursion limit exceeded",
                ),
            ];
            for (x, message) in refused {
                let err = ActionRequest::from_slice(body(&x)).unwrap_err();
                assert!(err.to_string().contains(message), "{x}: {err}");
            }
            let accepted = [
                r#""\ud83d\ude00""#.to_owned(),
                "1e308".to_owned(),
                "1e-999".to_owned(),
                format!("1{}", "0".repeat(300)),
                format!("{}{}", "[".repeat(126), "]".repeat(126)),
            ];
            for x in accepted {
                ActionRequest::from_slice(body(&x)).unwrap();
                agree(&body(&x));
            }
        }
    }

    #[test]
    fn tricky_inputs_agree() {
        let base = r#"{"version":"2.0","action":{"actionName":"a","parameters":PARAMS},"context":CONTEXT}"#;
        let params = [
            "{}",
            "null",
            r#"{"p":null}"#,
            r#"{"p":{"type":null,"value":"v"}}"#,
            r#"{"p":{"value":"1"},"p":{"value":"2"}}"#,
            r#"{"\u0070":{"value":"x"},"p":{"value":"y"}}"#,
            r#"{"p":{"value":"\ud83d\ude00 \u00e9 \n"}}"#,
            r#"{"p":{"value":"\ud83d"}}"#,
            r#"{"p":{"value":"\udc00x"}}"#,
            r#"{"p":{"value":5}}"#,
            r#"{"p":{"value":"a","value":"b"}}"#,
            r#"{"p":{"extra":[1,2.5e-3,-0,{"x":true}],"value":"v"}}"#,
            r#"{"p":{"value":"v",}}"#,
            r#"[]"#,
            r#"{"p":{"value":-0.5e+2},"q":{"value":true},"r":{"value":false,"type":"B"}}"#,
            r#"{"p":{"value":01}}"#,
            r#"{"p":{"value":[1]}}"#,
            r#"{"p":{"value":{}}}"#,
            r#"{"p":[]}"#,
            r#"{"p":"v"}"#,
        ];
        let contexts = [
            "{}",
            "null",
            r#"{"session":null}"#,
            r#"{"session":{"isNew":null}}"#,
            r#"{"session":{"isNew":"TRUE","isPlayBuilderRequest":"false"}}"#,
            r#"{"session":{"isNew":"tru\u0065"}}"#,
            r#"{"session":{"isNew":"yes"}}"#,
            r#"{"session":{"isNew":0}}"#,
            r#"{"session":[]}"#,
            r#"{"device":null,"session":null}"#,
            r#"{"device":{"state":[]}}"#,
            r#"{"supportedInterfaces":"x"}"#,
            "[]",
            r#""context""#,
            r#"{"session":{"isNew":true,"id":"\"quoted\""}}"#,
            r#"{"device":{"state":null,"type":"x"},"supportedInterfaces":null}"#,
            r#"{"supportedInterfaces":{"AudioPlayer":{"offsetInMilliseconds":01}}}"#,
            r#"{"supportedInterfaces":{"a":1.}}"#,
            r#"{"supportedInterfaces":{"a":-}}"#,
            r#"{"privatePlay":{}, "privatePlay":{}}"#,
            r#"{"\u0073ession":{"isNew":true}}"#,
            "{\"x\":\"tab\there\"}",
        ];
        for p in params {
            for c in contexts {
                agree(&base.replace("PARAMS", p).replace("CONTEXT", c));
            }
        }
        agree(&format!("{}{}", "[".repeat(200), "]".repeat(200)));
        let deep = format!(
            r#"{{"version":"2.0","action":{{"actionName":"a"}},"x":{}1{}}}"#,
            "[".repeat(130),
            "]".repeat(130)
        );
        agree(&deep);
        agree(r#"{"version":"2.0","action":{"actionName":"a"}} x"#);
        agree(r#"[{"version":"2.0","action":{"actionName":"a"}}]"#);
        agree(r#"["2.0",{"actionName":"a"}]"#);
        agree(r#"{"action":{"actionName":"a"},"profile":[]}"#);
        agree(r#"{"action":{"actionName":"a"},"profile":{"privatePlay":null}}"#);
        agree(
            r#"{"action":{"actionName":"a"},"profile":{"privatePlay":{"userKey":"u","deviceKey":"d","enrolledUser":null}}}"#,
        );
        agree(r#"{"action":{"actionName":"a"},"event":null,"version":null}"#);
        agree(r#"{"action":{"actionName":"a"},"event":1}"#);
        agree(r#"  {"version":"2.0","action":{"actionName":"a"}}  "#);
    }
}
