//! [`DateTime`]: the API's local date-times, keeping the text when it does not parse.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A date-time of the API (ISO-8601 local date-time, e.g. `2021-08-04T16:34:30.388`).
///
/// The raw text is always kept; [`DateTime::parts`] is `None` when it does not parse, as with the
/// documentation's own `2021-0804T16:34:30.388`, so one malformed date never fails an answer.
///
/// ```
/// use nugu_proxy::biz::DateTime;
/// let ok: DateTime = serde_json::from_str("\"2021-08-04T16:34:30.388\"").unwrap();
/// assert_eq!(ok.parts().unwrap().month, 8);
/// let odd: DateTime = serde_json::from_str("\"2021-0804T16:34:30.388\"").unwrap();
/// assert!(odd.parts().is_none());
/// assert_eq!(odd.raw(), "2021-0804T16:34:30.388");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateTime {
    raw: String,
    parts: Option<DateTimeParts>,
}

/// The fields of a well-formed [`DateTime`]. A zone suffix (`Z`, `+09:00`) is accepted and
/// ignored: the API's times are local times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTimeParts {
    /// Year, e.g. 2021.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 60 (a leap second).
    pub second: u8,
    /// Millisecond, 0 to 999 (finer digits are dropped).
    pub millisecond: u16,
}

impl DateTime {
    /// Reads a date-time, keeping the text whether or not it parses.
    pub fn parse(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let parts = parse_parts(&raw);
        Self { raw, parts }
    }

    /// The text as the API sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The parsed fields, if the text is a well-formed ISO-8601 date-time.
    pub fn parts(&self) -> Option<DateTimeParts> {
        self.parts
    }
}

impl From<DateTimeParts> for DateTime {
    fn from(p: DateTimeParts) -> Self {
        let raw = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
            p.year, p.month, p.day, p.hour, p.minute, p.second, p.millisecond
        );
        Self {
            raw,
            parts: Some(p),
        }
    }
}

fn parse_parts(raw: &str) -> Option<DateTimeParts> {
    let b = raw.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && (sep(10, b'T') || sep(10, b' ')) && sep(13, b':')) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut rest = 16;
    let mut second = 0;
    let mut millisecond = 0;
    if sep(16, b':') {
        second = num(17..19)?;
        rest = 19;
        if sep(19, b'.') {
            let digits: Vec<u8> = b[20..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect();
            if digits.is_empty() {
                return None;
            }
            // Milliseconds: the first three digits, padded ("3" is 300 ms); finer ones dropped.
            millisecond = (0..3).fold(0, |ms, i| {
                ms * 10 + u32::from(digits.get(i).map_or(0, |d| d - b'0'))
            });
            rest = 20 + digits.len();
        }
    }
    let zone = &raw[rest..];
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':');
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    (zone_ok && valid).then_some(DateTimeParts {
        year: year as i32,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        millisecond: millisecond as u16,
    })
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
        let ms = |raw: &str| DateTime::parse(raw).parts().map(|p| p.millisecond);
        assert_eq!(ms("2021-08-04T16:34:30.388"), Some(388));
        assert_eq!(ms("2021-08-04T16:34:30.3"), Some(300));
        assert_eq!(ms("2021-08-04T16:34:30.123456789012345"), Some(123));
        assert_eq!(ms("2017-11-06T06:00:00.000Z"), Some(0));
        assert_eq!(ms("2021-08-04T16:34:30+09:00"), Some(0));
        assert_eq!(ms("2021-08-04 16:34"), Some(0));
        for odd in [
            "",
            "2021",
            "2021-0804T16:34:30.388",
            "2021-08-04T16:34:30.",
            "2021-13-04T16:34:30",
            "2021-08-04T16:34:30.388가",
            "2021-08-04T16:3가",
            "가나다라마바사아자차카타파하",
            "2021-08-04T16:34:30.388+0900",
            "-021-08-04T16:34:30",
            "2021-08-04T24:00:00",
        ] {
            let parsed = DateTime::parse(odd);
            assert_eq!(parsed.parts(), None, "{odd}");
            assert_eq!(parsed.raw(), odd);
        }
    }
}
