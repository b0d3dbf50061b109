//! Masked forms of personal data, for `Debug` output and logs.
//!
//! Each wrapper implements `Display` and `Debug` and never writes the value it masks in full:
//! `홍길동` becomes `홍*동`, `01011112222` becomes `010****2222`, `gildong@example.com` becomes
//! `g***@example.com`, and a secret becomes `<redacted>`.
//!
//! ```
//! use nugu_proxy::request::mask::{MaskedEmail, MaskedName, MaskedPhone};
//!
//! assert_eq!(MaskedName("홍길동").to_string(), "홍*동");
//! assert_eq!(MaskedPhone("01011112222").to_string(), "010****2222");
//! assert_eq!(MaskedEmail("gildong@example.com").to_string(), "g***@example.com");
//! ```

use std::fmt::{self, Write};

/// A person's name with every character but the first and last masked (`홍*동`, `김*`).
#[derive(Clone, Copy)]
pub struct MaskedName<'a>(pub &'a str);

/// A phone number with all but the first three and last four characters masked (`010****2222`);
/// numbers of five to eight characters are masked but for their last two, shorter ones wholly.
#[derive(Clone, Copy)]
pub struct MaskedPhone<'a>(pub &'a str);

/// An email address with its local part masked but for its first character (`g***@example.com`).
#[derive(Clone, Copy)]
pub struct MaskedEmail<'a>(pub &'a str);

/// A credential or a free-form personal value (`tag`): nothing of it is shown.
#[derive(Clone, Copy)]
pub struct Redacted;

/// An identifier shown as a short prefix and its length (`user.0…(72 chars)`): enough to tell
/// two apart in a log, not enough to use or look one up. The prefix is at most
/// [`Truncated::MAX_PREFIX`] characters and at most a quarter of the value.
///
/// ```
/// use nugu_proxy::request::mask::Truncated;
///
/// assert_eq!(Truncated("user.0.A3JFAD5YQ59L4WYJ146BMJG5Q49I").to_string(), "user.0…(35 chars)");
/// assert_eq!(Truncated("NU200_XXXXXX").to_string(), "NU2…(12 chars)");
/// ```
#[derive(Clone, Copy)]
pub struct Truncated<'a>(pub &'a str);

impl Truncated<'_> {
    /// The most characters of the value ever shown.
    pub const MAX_PREFIX: usize = 6;
}

fn stars(f: &mut fmt::Formatter<'_>, n: usize) -> fmt::Result {
    (0..n).try_for_each(|_| f.write_char('*'))
}

impl fmt::Display for MaskedName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        match chars.as_slice() {
            [] => Ok(()),
            [_] => f.write_char('*'),
            [first, _] => {
                f.write_char(*first)?;
                f.write_char('*')
            }
            [first, middle @ .., last] => {
                f.write_char(*first)?;
                stars(f, middle.len())?;
                f.write_char(*last)
            }
        }
    }
}

impl fmt::Display for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        let (head, tail) = match chars.len() {
            9.. => (3, 4),
            5..=8 => (0, 2),
            _ => (0, 0),
        };
        let masked = chars.len() - head - tail;
        chars[..head].iter().try_for_each(|c| f.write_char(*c))?;
        stars(f, masked)?;
        chars[head + masked..]
            .iter()
            .try_for_each(|c| f.write_char(*c))
    }
}

impl fmt::Display for MaskedEmail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.rsplit_once('@') {
            Some((local, domain)) => {
                if let Some(first) = local.chars().next() {
                    f.write_char(first)?;
                }
                f.write_str("***@")?;
                f.write_str(domain)
            }
            None => f.write_str("***"),
        }
    }
}

impl fmt::Display for Truncated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.0.chars().count();
        let shown = (len / 4).min(Self::MAX_PREFIX);
        self.0
            .chars()
            .take(shown)
            .try_for_each(|c| f.write_char(c))?;
        write!(f, "…({len} chars)")
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

macro_rules! debug_as_display {
    ($($ty:ty),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}
debug_as_display!(
    MaskedName<'_>,
    MaskedPhone<'_>,
    MaskedEmail<'_>,
    Redacted,
    Truncated<'_>
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(MaskedName("").to_string(), "");
        assert_eq!(MaskedName("홍").to_string(), "*");
        assert_eq!(MaskedName("김철").to_string(), "김*");
        assert_eq!(MaskedName("남궁민수").to_string(), "남**수");
        assert_eq!(MaskedName("Alice Kim").to_string(), "A*******m");
    }

    #[test]
    fn phones() {
        assert_eq!(MaskedPhone("010-1111-2222").to_string(), "010******2222");
        assert_eq!(MaskedPhone("12345").to_string(), "***45");
        assert_eq!(MaskedPhone("1234").to_string(), "****");
        assert_eq!(MaskedPhone("").to_string(), "");
    }

    #[test]
    fn truncated() {
        assert_eq!(Truncated("").to_string(), "…(0 chars)");
        assert_eq!(Truncated("abc").to_string(), "…(3 chars)");
        assert_eq!(Truncated("12345678").to_string(), "12…(8 chars)");
        assert_eq!(
            Truncated(&"x".repeat(100)).to_string(),
            "xxxxxx…(100 chars)"
        );
    }

    #[test]
    fn emails() {
        assert_eq!(MaskedEmail("a@b.c").to_string(), "a***@b.c");
        assert_eq!(MaskedEmail("no-at-sign").to_string(), "***");
        assert_eq!(MaskedEmail("@x.com").to_string(), "***@x.com");
    }
}
