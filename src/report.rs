//! The `Debug` of the crate's errors: their message and causes, as error-reporting crates
//! (anyhow, eyre) print theirs.
//!
//! A `main` that returns an error prints `Error: {error:?}`, and so does a `Box<dyn Error>`
//! holding one: a derived `Debug` would print the variant's fields (and an `io::Error`'s
//! `Os { code: 2, kind: NotFound, .. }`) where the reader wants the message. Being the
//! `Display` text and its sources' `Display`, this `Debug` shows nothing that the messages do
//! not, so it keeps their rule: no personal data, no credentials.

use std::error::Error;
use std::fmt;

/// Writes `error`'s message, then each of its causes on its own line.
pub(crate) fn debug(error: &dyn Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{error}")?;
    let mut cause = error.source();
    if cause.is_some() {
        f.write_str("\n\nCaused by:")?;
    }
    while let Some(error) = cause {
        write!(f, "\n    {error}")?;
        cause = error.source();
    }
    Ok(())
}

/// Implements `Debug` as [`debug`] for each of the given error types.
macro_rules! debug_as_report {
    ($($name:ty),+ $(,)?) => {$(
        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::report::debug(self, f)
            }
        }
    )+};
}
pub(crate) use debug_as_report;

#[cfg(test)]
mod tests {
    use std::fmt;

    struct Outer(std::io::Error);
    debug_as_report!(Outer);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot start")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn debug_is_the_message_then_each_cause() {
        let error = Outer(std::io::Error::other("the disk is full"));
        assert_eq!(
            format!("{error:?}"),
            "cannot start\n\nCaused by:\n    the disk is full"
        );
    }
}
