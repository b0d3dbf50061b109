//! Counts of work in progress and their signs of life: what the idle timeout (a connection's
//! requests) and the send timeout (a response's body) are measured on.
//!
//! HTTP/1.1 and HTTP/2 alike, an idle connection could hold a connection slot forever. Every
//! connection therefore counts its requests in flight, from the request head until its response
//! body is sent or dropped, and is shut down once none has been in flight for the idle timeout.
//! A request in flight is no proof of life either: a client that never reads its response (an
//! HTTP/2 window of 0, a full TCP window) holds it forever. So the responses being sent are
//! counted too, each body's progress is a sign of life, and past the send timeout without any
//! the response is reset (see [`stall`](super::stall)).
//!
//! Nothing here reads a clock: the request path only bumps counters (a clock read and a timer
//! per request cost a tenth of the server's own work per request). Whoever enforces a timeout
//! wakes every tick, reads the counters, and notes the time it last saw them move
//! ([`Quiet`]), so a timeout fires within a tick after it has passed.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Things in progress and every sign of life they give.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    in_progress: AtomicUsize,
    /// Bumped by every start, end and sign of life.
    events: AtomicU64,
    /// Set once this clock's work was abandoned for want of progress.
    stalled: AtomicBool,
}

impl Clock {
    /// Counts one more thing in progress; [`end`](Self::end) it when done or cancelled.
    pub(crate) fn start(&self) {
        self.in_progress.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    /// Records a sign of life.
    pub(crate) fn touch(&self) {
        self.events.fetch_add(1, Ordering::Release);
    }

    /// Ends one thing counted by [`start`](Self::start).
    pub(crate) fn end(&self) {
        self.touch();
        self.in_progress.fetch_sub(1, Ordering::Release);
    }

    pub(crate) fn busy(&self) -> bool {
        self.in_progress.load(Ordering::Acquire) > 0
    }

    /// Whether anything is in progress, and the count of events so far.
    fn read(&self) -> (bool, u64) {
        let events = self.events.load(Ordering::Acquire);
        (self.in_progress.load(Ordering::Acquire) > 0, events)
    }

    pub(crate) fn mark_stalled(&self) {
        self.stalled.store(true, Ordering::Release);
    }

    pub(crate) fn was_stalled(&self) -> bool {
        self.stalled.load(Ordering::Acquire)
    }
}

/// The view of one [`Clock`] from whoever enforces its timeout: since when it has not moved.
#[derive(Debug)]
pub(crate) struct Quiet {
    seen: u64,
    since: Instant,
}

impl Quiet {
    /// Starts watching `clock`, which started at `opened`: quiet since then if it has never
    /// moved, else (at least) since `now`.
    pub(crate) fn new(clock: &Clock, opened: Instant, now: Instant) -> Self {
        let seen = clock.read().1;
        Self {
            seen,
            since: if seen == 0 { opened } else { now },
        }
    }

    /// Whether the clock had not moved at all when last observed.
    pub(crate) fn never_moved(&self) -> bool {
        self.seen == 0
    }

    /// Whether `clock` has something in progress, and for how long, as of `now`, it has given
    /// no sign of life (at least; at most a tick longer).
    pub(crate) fn observe(&mut self, clock: &Clock, now: Instant) -> (bool, Duration) {
        let (busy, events) = clock.read();
        if events != self.seen {
            self.seen = events;
            self.since = now;
        }
        (busy, now.saturating_duration_since(self.since))
    }
}

/// How often a timeout of `timeout` is checked: a quarter of it (so it fires at most 25% late),
/// between 1 ms and 1 s.
pub(crate) fn tick_for(timeout: Duration) -> Duration {
    (timeout / 4).clamp(Duration::from_millis(1), Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_measures_from_the_last_event_it_saw() {
        let clock = Clock::default();
        let start = Instant::now();
        let mut quiet = Quiet::new(&clock, start, start);
        let later = start + Duration::from_secs(5);
        assert_eq!(
            quiet.observe(&clock, later),
            (false, Duration::from_secs(5))
        );
        clock.start();
        assert_eq!(quiet.observe(&clock, later), (true, Duration::ZERO));
        clock.touch();
        let even_later = later + Duration::from_secs(2);
        assert_eq!(quiet.observe(&clock, even_later), (true, Duration::ZERO));
        assert_eq!(
            quiet.observe(&clock, even_later + Duration::from_secs(1)),
            (true, Duration::from_secs(1))
        );
        clock.end();
        assert_eq!(quiet.observe(&clock, even_later), (false, Duration::ZERO));
    }

    #[test]
    fn a_clock_watched_late_counts_from_its_start_if_it_never_moved() {
        let (clock, opened) = (Clock::default(), Instant::now());
        let now = opened + Duration::from_secs(1);
        let later = now + Duration::from_secs(1);
        let mut quiet = Quiet::new(&clock, opened, now);
        assert_eq!(
            quiet.observe(&clock, later),
            (false, Duration::from_secs(2))
        );
        clock.touch();
        let mut quiet = Quiet::new(&clock, opened, now);
        assert_eq!(
            quiet.observe(&clock, later),
            (false, Duration::from_secs(1))
        );
    }

    #[test]
    fn ticks_are_a_quarter_of_the_timeout_within_bounds() {
        assert_eq!(
            tick_for(Duration::from_millis(500)),
            Duration::from_millis(125)
        );
        assert_eq!(tick_for(Duration::from_secs(60)), Duration::from_secs(1));
        assert_eq!(tick_for(Duration::ZERO), Duration::from_millis(1));
    }
}
