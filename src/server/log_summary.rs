//! Refusals that anyone can cause without authenticating are logged as periodic summaries, not
//! one line each: a client could otherwise flood the logs (and the disk, and whoever reads
//! them) at the rate it can open connections. So are failed accepts (out of file descriptors),
//! which repeat every few milliseconds for as long as they last. Counting is one relaxed atomic add; every
//! interval, one `warn!` per reason that occurred gives its count, and nothing about the
//! clients (no addresses, no request data).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Why the server refused something before any authentication could happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// Behind a TLS terminator, a connection from an address not in the trusted list: closed
    /// at accept.
    UntrustedPeer,
    /// Behind a TLS terminator, a request the balancer did not mark as HTTPS: `403`.
    HttpsRequired,
    /// A request past the request timeout (a slow body or a slow service): `504`.
    RequestTimeout,
    /// A connection from a client that already held `max_connections_per_peer`: closed at
    /// accept.
    PeerLimit,
    /// `accept` failed (out of file descriptors, `EMFILE`, and the like): the connection waits
    /// in the listen queue while the accept loop backs off.
    AcceptFailed,
}

impl Reason {
    const ALL: [Self; 5] = [
        Self::UntrustedPeer,
        Self::HttpsRequired,
        Self::RequestTimeout,
        Self::PeerLimit,
        Self::AcceptFailed,
    ];

    /// The `reason` field of the summary.
    fn as_str(self) -> &'static str {
        match self {
            Self::UntrustedPeer => "untrusted_peer",
            Self::HttpsRequired => "https_required",
            Self::RequestTimeout => "request_timeout",
            Self::PeerLimit => "peer_limit",
            Self::AcceptFailed => "accept_failed",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::UntrustedPeer => "closed connections from untrusted addresses",
            Self::HttpsRequired => {
                "refused requests from the trusted proxy without X-Forwarded-Proto: https (403)"
            }
            Self::RequestTimeout => "requests past the request timeout (504)",
            Self::PeerLimit => {
                "closed connections from clients that held max_connections_per_peer already"
            }
            Self::AcceptFailed => {
                "failed accepts (out of file descriptors or the like: check the open-file limit \
                 and max_connections)"
            }
        }
    }

    /// What the summary line is about.
    fn headline(self) -> &'static str {
        match self {
            Self::AcceptFailed => "could not accept connections",
            _ => "refused before authentication",
        }
    }
}

/// The counts since the last summary, shared by the accept loop and every connection.
#[derive(Debug, Default)]
pub(crate) struct RefusalLog {
    counts: [AtomicU64; Reason::ALL.len()],
}

impl RefusalLog {
    /// Counts one refusal; it appears in the next summary.
    pub(crate) fn record(&self, reason: Reason) {
        self.counts[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Logs one line per reason counted since the last call, and starts counting afresh.
    /// `interval` is how often this is called, for the reader of the log (the last summary, at
    /// shutdown, may cover less).
    pub(crate) fn flush(&self, interval: Duration) {
        for reason in Reason::ALL {
            let count = self.counts[reason as usize].swap(0, Ordering::Relaxed);
            if count > 0 {
                tracing::warn!(
                    reason = reason.as_str(),
                    count,
                    interval_secs = interval.as_secs_f64(),
                    "{}: {count} {} since the last summary",
                    reason.headline(),
                    reason.what()
                );
            }
        }
    }
}
