//! Time for the emulator: the real clock, or a manual one a test moves forward.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;

use crate::biz::model::DateTime;

/// Where the emulator reads the time (invitation expiry, creation and acceptance dates).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until moved; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use nugu_proxy::biz::emulator::{Clock, ManualClock};
/// let clock = ManualClock::default();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(72 * 3600));
/// assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(259_200));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Default for ManualClock {
    /// 2021-08-04T07:34:30Z (16:34:30 in Seoul), the date the Biz pages use.
    fn default() -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(1_628_062_470))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `at` as the API writes it: a local (Seoul) ISO-8601 date-time with milliseconds.
pub(crate) fn local_date_time(at: SystemTime) -> DateTime {
    DateTime::api_local(timestamp(at))
}

/// `at` as the invitation list writes `createdDate`: UTC with milliseconds and `Z`
/// (`2017-11-06T06:00:00.000Z`).
pub(crate) fn utc_date_time(at: SystemTime) -> DateTime {
    DateTime::parse(timestamp(at).strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn timestamp(at: SystemTime) -> Timestamp {
    // A SystemTime outside jiff's range (years -9999..=9999) cannot come from a clock in use.
    Timestamp::try_from(at).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_docs_date_in_seoul_time() {
        assert_eq!(
            local_date_time(ManualClock::default().now()).raw(),
            "2021-08-04T16:34:30.000"
        );
        assert_eq!(
            local_date_time(UNIX_EPOCH + Duration::from_millis(951_782_400_123)).raw(),
            "2000-02-29T09:00:00.123"
        );
        assert_eq!(
            utc_date_time(ManualClock::default().now()).raw(),
            "2021-08-04T07:34:30.000Z"
        );
    }
}
