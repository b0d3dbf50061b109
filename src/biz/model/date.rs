//! [`DateTime`]: the API's date-times, read with [`jiff`], keeping the text as sent.

use jiff::civil;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The zone of the API's local date-times: Korea Standard Time, UTC+9, no daylight saving.
pub const API_LOCAL_OFFSET: Offset = Offset::constant(9);

/// A date-time of the API: an ISO-8601 local date-time (`2021-08-04T16:34:30.388`), sometimes
/// with a zone (`2017-11-06T06:00:00.000Z` in the invitation list, which is UTC).
///
/// The raw text is always kept. It is read with [`jiff`]:
/// - a date that does not exist (`2021-02-31`, `2021-13-01`, `24:00`) is not a date:
///   [`DateTime::civil`] is `None`, and the answer still reads (the text stays available);
/// - the pages' own malformed `2021-0804T16:34:30.388` (a dash missing between month and
///   day) reads as 2021-08-04, since `YYYY-MMDD` has only one meaning;
/// - a zone (`Z`, `+09:00`) is kept in [`DateTime::offset`]; without one the time is the API's
///   local time ([`API_LOCAL_OFFSET`], Seoul), which [`DateTime::timestamp`] applies.
///
/// ```
/// use nugu_proxy::biz::DateTime;
/// let local: DateTime = serde_json::from_str("\"2021-08-04T16:34:30.388\"").unwrap();
/// assert_eq!(local.civil().unwrap().to_string(), "2021-08-04T16:34:30.388");
/// assert_eq!(local.offset(), None);
/// assert_eq!(local.timestamp().unwrap().to_string(), "2021-08-04T07:34:30.388Z");
///
/// let utc = DateTime::parse("2017-11-06T06:00:00.000Z");
/// assert_eq!(utc.offset(), Some(nugu_proxy::biz::jiff::tz::Offset::UTC));
/// assert_eq!(utc.timestamp().unwrap().to_string(), "2017-11-06T06:00:00Z");
///
/// let odd = DateTime::parse("2021-0804T16:34:30.388");
/// assert_eq!(odd.civil().unwrap().date().to_string(), "2021-08-04");
/// assert_eq!(odd.raw(), "2021-0804T16:34:30.388");
///
/// let impossible = DateTime::parse("2021-02-31T09:00:00");
/// assert_eq!(impossible.civil(), None);
/// assert_eq!(impossible.raw(), "2021-02-31T09:00:00");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateTime {
    raw: String,
    civil: Option<civil::DateTime>,
    offset: Option<Offset>,
}

impl DateTime {
    /// Reads a date-time, keeping the text whether or not it is a valid date.
    pub fn parse(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let (civil, offset) = match read(&raw) {
            Some((civil, offset)) => (Some(civil), offset),
            None => (None, None),
        };
        Self { raw, civil, offset }
    }

    /// The API's local date-time for an instant, written as the API writes it
    /// (`2021-08-04T16:34:30.388`, Seoul time, milliseconds, no zone).
    ///
    /// ```
    /// use nugu_proxy::biz::DateTime;
    /// let at: nugu_proxy::biz::jiff::Timestamp = "2021-08-04T07:34:30.388Z".parse().unwrap();
    /// assert_eq!(DateTime::api_local(at).raw(), "2021-08-04T16:34:30.388");
    /// ```
    pub fn api_local(at: Timestamp) -> Self {
        let civil = API_LOCAL_OFFSET.to_datetime(at);
        Self {
            raw: civil.strftime("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            civil: Some(civil),
            offset: None,
        }
    }

    /// The text as the API sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The date and time as written (without zone), if the text is a valid date-time.
    pub fn civil(&self) -> Option<civil::DateTime> {
        self.civil
    }

    /// The zone written after the time (`Z` is [`Offset::UTC`]), `None` for a local time.
    pub fn offset(&self) -> Option<Offset> {
        self.offset
    }

    /// The instant: with the written zone, or else as Seoul time ([`API_LOCAL_OFFSET`]).
    pub fn timestamp(&self) -> Option<Timestamp> {
        let offset = self.offset.unwrap_or(API_LOCAL_OFFSET);
        offset.to_timestamp(self.civil?).ok()
    }
}

/// The date-time and zone of `raw`, after repairing the pages' missing dash (`2021-0804T`).
fn read(raw: &str) -> Option<(civil::DateTime, Option<Offset>)> {
    let repaired;
    let text = match raw.as_bytes() {
        [y0, y1, y2, y3, b'-', m0, m1, d0, d1, sep, ..]
            if [y0, y1, y2, y3, m0, m1, d0, d1]
                .iter()
                .all(|b| b.is_ascii_digit())
                && matches!(sep, b'T' | b't' | b' ') =>
        {
            repaired = format!("{}-{}", &raw[..7], &raw[7..]);
            repaired.as_str()
        }
        _ => raw,
    };
    let pieces = Pieces::parse(text).ok()?;
    // A date alone is not a date-time: which time of that day is unknown.
    let time = pieces.time()?;
    Some((pieces.date().to_datetime(time), pieces.to_numeric_offset()))
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::DateTime;

    #[test]
    fn dates_parse_or_keep_their_text_without_panicking() {
        let ms = |raw: &str| {
            DateTime::parse(raw)
                .civil()
                .map(|c| c.subsec_nanosecond() / 1_000_000)
        };
        assert_eq!(ms("2021-08-04T16:34:30.388"), Some(388));
        assert_eq!(ms("2021-08-04T16:34:30.3"), Some(300));
        assert_eq!(ms("2021-08-04T16:34:30.123456789"), Some(123));
        assert_eq!(ms("2017-11-06T06:00:00.000Z"), Some(0));
        assert_eq!(ms("2021-08-04T16:34:30+09:00"), Some(0));
        assert_eq!(ms("2021-08-04 16:34"), Some(0));
        assert_eq!(ms("2021-0804T16:34:30.388"), Some(388));
        assert_eq!(ms("2024-02-29T00:00:00"), Some(0));
        for odd in [
            "",
            "2021",
            "2021-02-31T09:00:00",
            "2023-02-29T09:00:00",
            "2021-04-31",
            "2021-08-04",
            "2021-0231T09:00:00",
            "2021-08-04T16:34:30.",
            "2021-13-04T16:34:30",
            "2021-08-04T16:34:30.388가",
            "2021-08-04T16:3가",
            "가나다라마바사아자차카타파하",
            "2021-0가T16:34:30",
            "-021-08-04T16:34:30",
            "2021-08-04T24:00:00",
        ] {
            let parsed = DateTime::parse(odd);
            assert_eq!(parsed.civil(), None, "{odd}");
            assert_eq!(parsed.offset(), None, "{odd}");
            assert_eq!(parsed.timestamp(), None, "{odd}");
            assert_eq!(parsed.raw(), odd);
        }
    }

    #[test]
    fn a_zone_is_kept_and_a_local_time_is_seoul_time() {
        let seoul = DateTime::parse("2021-08-04T16:34:30+09:00");
        let utc = DateTime::parse("2021-08-04T07:34:30Z");
        let local = DateTime::parse("2021-08-04T16:34:30");
        assert_eq!(seoul.offset(), Some(jiff::tz::Offset::constant(9)));
        assert_eq!(utc.offset(), Some(jiff::tz::Offset::UTC));
        assert_eq!(local.offset(), None);
        assert_eq!(seoul.timestamp(), utc.timestamp());
        assert_eq!(local.timestamp(), utc.timestamp());
        assert_ne!(utc.civil(), local.civil());
    }
}
