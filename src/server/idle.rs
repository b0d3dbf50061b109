//! A count of things in progress and the time of the last sign of life: the clock of the idle
//! timeout (a connection's requests) and of the send timeout (a response's body).
//!
//! HTTP/1.1's header read timeout already closes an idle keep-alive connection, but HTTP/2 has
//! nothing alike, so an idle HTTP/2 client could hold a connection slot forever. Every
//! connection therefore counts its requests in flight, from the request head until its response
//! body is sent or dropped, and past the idle timeout without any is shut down gracefully.
//!
//! A request in flight is no proof of life either: a client that never reads its response (an
//! HTTP/2 window of 0, a full TCP window) holds it forever. So the responses being sent are
//! counted too, each body's progress is a sign of life, and past the send timeout without any
//! the response is reset (see [`stall`](super::stall)).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Shared by whatever waits on the clock and the work it counts.
pub(crate) struct Activity {
    opened: Instant,
    in_progress: AtomicUsize,
    /// Milliseconds from `opened` to the last sign of life.
    last_ms: AtomicU64,
    /// Set once [`stalled_for`](Self::stalled_for) has completed.
    stalled: AtomicBool,
    /// Asks the connection to close (see [`close`](Self::close)).
    close: Notify,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            in_progress: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
            close: Notify::new(),
        })
    }

    /// Records a sign of life now.
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Counts one more thing in progress until the guard is dropped (done or cancelled).
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_progress.fetch_add(1, Ordering::Relaxed);
        self.touch();
        InFlight(self.clone())
    }

    /// Completes once nothing has been in progress for `timeout`.
    ///
    /// A request that starts just as this completes is not lost: the connection is then shut
    /// down gracefully, which finishes the requests it has received.
    pub(crate) async fn idle_for(&self, timeout: Duration) {
        self.quiet_for(timeout, false).await;
    }

    /// Completes once something has been in progress without a sign of life for `timeout`;
    /// [`was_stalled`](Self::was_stalled) is `true` from then on.
    pub(crate) async fn stalled_for(&self, timeout: Duration) {
        self.quiet_for(timeout, true).await;
        self.stalled.store(true, Ordering::Release);
    }

    pub(crate) fn was_stalled(&self) -> bool {
        self.stalled.load(Ordering::Acquire)
    }

    /// Asks the connection's task to close it gracefully (HTTP/2: `GOAWAY`); see
    /// [`close_requested`](Self::close_requested).
    pub(crate) fn close(&self) {
        self.close.notify_one();
    }

    /// Completes once [`close`](Self::close) has been called.
    pub(crate) async fn close_requested(&self) {
        self.close.notified().await;
    }

    /// Completes once `timeout` has passed since the last sign of life while something was in
    /// progress (`busy`) or while nothing was.
    async fn quiet_for(&self, timeout: Duration, busy: bool) {
        loop {
            if (self.in_progress.load(Ordering::Acquire) > 0) != busy {
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

/// Something in progress; see [`Activity::begin`].
pub(crate) struct InFlight(Arc<Activity>);

impl InFlight {
    /// The clock this counts on.
    pub(crate) fn activity(&self) -> &Activity {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        // Release: whoever sees the count drop also sees the time just stored.
        self.0.in_progress.fetch_sub(1, Ordering::Release);
    }
}
