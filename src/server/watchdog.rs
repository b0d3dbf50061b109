//! Each connection's watchdog: a task of its own that enforces the connection's timeouts (idle,
//! header read: HTTP/1.1's for every head, HTTP/2's for the first; HTTP/1.1 send; shutdown
//! grace) and the server's shutdown, and tells the connection's task what to do through a
//! [`Signal`].
//!
//! It runs beside the connection rather than in its `select!`, which would poll every timer each
//! time the connection wakes, several times per request; the connection's task polls only the
//! signal, an atomic load.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use atomic_waker::AtomicWaker;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::idle::{tick_for, Clock, Quiet};

/// What the connection's task is told to do, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Order {
    Serve = 0,
    /// Finish the requests received and stop taking new ones (HTTP/2: `GOAWAY`).
    Close = 1,
    /// Drop the connection now.
    Abort = 2,
}

/// An [`Order`] that only rises, and wakes the connection's task when it does.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    order: AtomicU8,
    task: AtomicWaker,
}

impl Signal {
    pub(crate) fn raise(&self, order: Order) {
        if self.order.fetch_max(order as u8, Ordering::AcqRel) < order as u8 {
            self.task.wake();
        }
    }

    pub(crate) fn get(&self) -> Order {
        match self.order.load(Ordering::Acquire) {
            0 => Order::Serve,
            1 => Order::Close,
            _ => Order::Abort,
        }
    }

    /// The current order; the task of `cx` is woken when it rises.
    pub(crate) fn watch(&self, cx: &mut Context<'_>) -> Order {
        self.task.register(cx.waker());
        self.get()
    }
}

/// What one connection shares with its requests and its watchdog.
#[derive(Debug, Default)]
pub(crate) struct Watched {
    /// Requests in flight, from the head until the response body is sent or dropped.
    pub(crate) requests: Clock,
    /// HTTP/1.1 only: the response being sent (HTTP/2 streams each have their own clock).
    pub(crate) sending: Clock,
    pub(crate) signal: Signal,
}

/// The timeouts a watchdog enforces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Nothing in flight for this long closes the connection (for HTTP/1.1 the shorter of the
    /// idle and header read timeouts: waiting for the next head is idleness).
    pub(crate) idle: Duration,
    /// A connection that has never had a request in flight is dropped after this long (the
    /// shorter of the header read and idle timeouts): an HTTP/2 client sends no head the header
    /// read timeout could wait for, yet must not hold a slot for the whole idle timeout.
    pub(crate) first_request: Duration,
    /// `Some` for HTTP/1.1: a response making no progress for this long drops the connection. (An HTTP/2
    /// response is reset by its stream's task; see `stall`.)
    pub(crate) http1_send: Option<Duration>,
    /// How long a connection asked to close may take to finish what it has received.
    pub(crate) grace: Duration,
}

impl Limits {
    /// How often the watchdog looks: often enough for the shortest of its timeouts.
    pub(crate) fn tick(&self) -> Duration {
        let shortest = [
            Some(self.idle),
            Some(self.first_request),
            self.http1_send,
            Some(self.grace),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.idle);
        tick_for(shortest)
    }
}

/// Aborts the watchdog when the connection's task ends.
pub(crate) struct Guard(JoinHandle<()>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the watchdog of a connection opened at `opened`.
///
/// The connection's task starts it only once the connection has lived a tick (or the server
/// is stopping): a caller that does not keep connections alive is gone by then, and starting
/// a task, which wakes another worker thread, cost such a connection more than its request.
/// Its timeouts still count from `opened`.
pub(crate) fn spawn(
    watched: Arc<Watched>,
    limits: Limits,
    stop: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
    opened: Instant,
) -> Guard {
    Guard(tokio::spawn(watch(watched, limits, stop, peer, opened)))
}

async fn watch(
    watched: Arc<Watched>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
    opened: Instant,
) {
    let mut ticks = tokio::time::interval(limits.tick());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let now = Instant::now();
    let mut requests = Quiet::new(&watched.requests, opened, now);
    let mut sending = Quiet::new(&watched.sending, opened, now);
    let mut close_by: Option<Instant> = None;
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stopping| *stopping), if !stopping => {
                stopping = true;
                watched.signal.raise(Order::Close);
            }
        }
        let now = Instant::now();
        if let Some(send) = limits.http1_send {
            let (busy, quiet) = sending.observe(&watched.sending, now);
            if busy && quiet >= send {
                tracing::debug!(%peer, "closed a connection whose response made no progress");
                watched.signal.raise(Order::Abort);
                return;
            }
        }
        match close_by {
            None => {
                let (busy, quiet) = requests.observe(&watched.requests, now);
                if !busy && requests.never_moved() && quiet >= limits.first_request {
                    // Nothing was ever asked, so nothing to finish (and an HTTP/2 client that
                    // does not answer the GOAWAY's PING would hold it for the grace too).
                    tracing::debug!(%peer, "closed a connection that sent no request");
                    watched.signal.raise(Order::Abort);
                    return;
                }
                if !busy && quiet >= limits.idle {
                    if limits.http1_send.is_some() {
                        // HTTP/1.1 with no request in flight: at most half a head, which
                        // hyper's graceful close would wait for.
                        tracing::debug!(%peer, "closed an idle connection");
                        watched.signal.raise(Order::Abort);
                        return;
                    }
                    tracing::debug!(%peer, "closing an idle connection");
                    watched.signal.raise(Order::Close);
                }
                // Asked to close here, by the server's shutdown or by a stream that stalled.
                if watched.signal.get() >= Order::Close {
                    close_by = Some(now + limits.grace);
                }
            }
            Some(deadline) if now >= deadline => {
                tracing::debug!(%peer, "closed a connection still open at the end of its shutdown grace");
                watched.signal.raise(Order::Abort);
                return;
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_only_rises() {
        let signal = Signal::default();
        assert_eq!(signal.get(), Order::Serve);
        signal.raise(Order::Abort);
        signal.raise(Order::Close);
        assert_eq!(signal.get(), Order::Abort);
    }
}
