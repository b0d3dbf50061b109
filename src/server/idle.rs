//! How long a connection has had no request in flight: the idle timeout's clock.
//!
//! HTTP/1.1's header read timeout already closes an idle keep-alive connection, but HTTP/2 has
//! nothing alike, so an idle HTTP/2 client could hold a connection slot forever. Every
//! connection therefore counts its requests in flight and, past the idle timeout without any,
//! is shut down gracefully.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// Shared by a connection's task and its requests.
pub(crate) struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `opened` to the last request's start or end.
    last_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Marks a request in flight until the guard is dropped (answered or cancelled).
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        InFlight(self.clone())
    }

    /// Completes once the connection has had no request in flight for `timeout`.
    ///
    /// A request that starts just as this completes is not lost: the connection is then shut
    /// down gracefully, which finishes the requests it has received.
    pub(crate) async fn idle_for(&self, timeout: Duration) {
        loop {
            if self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(timeout).await;
                continue;
            }
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = self.opened + last + timeout;
            if deadline <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A request in flight; see [`Activity::begin`].
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        // Release: whoever sees the count drop also sees the time just stored.
        self.0.in_flight.fetch_sub(1, Ordering::Release);
    }
}
