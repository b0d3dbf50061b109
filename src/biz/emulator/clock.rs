//! Time for the emulator: the real clock, or a manual one a test moves forward.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::biz::model::{DateTime, DateTimeParts};

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

/// Korea Standard Time, the zone of the API's local date-times.
const KST_OFFSET_SECS: i64 = 9 * 3600;

/// `at` as the API writes it: a local (KST) ISO-8601 date-time with milliseconds.
pub(crate) fn local_date_time(at: SystemTime) -> DateTime {
    let (secs, millis) = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        Err(before) => (-(before.duration().as_secs() as i64), 0),
    };
    let local = secs + KST_OFFSET_SECS;
    let (days, rem) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    DateTime::from(DateTimeParts {
        year: year as i32,
        month: month as u8,
        day: day as u8,
        hour: (rem / 3600) as u8,
        minute: (rem % 3600 / 60) as u8,
        second: (rem % 60) as u8,
        millisecond: millis as u16,
    })
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
    }
}
