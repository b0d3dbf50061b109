//! The open-file limit: every connection is a file descriptor, and a process at its limit can
//! accept none (`EMFILE`), so [`bind`](super::ServerBuilder::bind) makes room for
//! `max_connections` first.
//!
//! The common soft limit, 1024, is the default `max_connections` itself, with nothing left for
//! the listener and the rest. The soft limit is the process's own to raise up to the hard one,
//! as Go's runtime does for every program; past the hard one only the operator can help, so
//! the server says so before it binds.

use super::error::StartupError;

/// Descriptors kept free beside the connections: the listener, the runtime's own (epoll, its
/// wakers, signal pipes), the certificate files read on reload, and the application's (logs,
/// the Biz API client's connections, a database).
pub(crate) const RESERVED: u64 = 64;

/// The connections this process can hold, asked for `max_connections`: raises the soft limit
/// of open files to what they need where the hard limit allows.
///
/// Past the hard limit, a `max_connections` the application set is refused
/// ([`StartupError::OpenFileLimit`]); the default (`explicit == false`) is lowered to fit,
/// with a warning, so that the server still starts on a host with a low hard limit.
pub(crate) fn room_for(max_connections: usize, explicit: bool) -> Result<usize, StartupError> {
    let needed = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_add(RESERVED);
    let limit = match raise_soft_limit(needed) {
        Ok(limit) => limit,
        Err(e) => {
            // Not knowing is no reason to refuse: the accept loop survives `EMFILE`.
            tracing::warn!(error = %e, "cannot read or raise the limit of open files");
            return Ok(max_connections);
        }
    };
    if limit >= needed {
        return Ok(max_connections);
    }
    if explicit {
        return Err(StartupError::OpenFileLimit { needed, limit });
    }
    let fits = usize::try_from(limit.saturating_sub(RESERVED))
        .unwrap_or(usize::MAX)
        .max(1);
    tracing::warn!(
        limit,
        max_connections = fits,
        "the hard limit of open files is too low for the default of {max_connections} \
         connections; serving at most {fits} (raise the hard limit, or set max_connections)"
    );
    Ok(fits)
}

/// Raises the soft limit of open files toward `wanted` (up to the hard limit); answers the
/// soft limit now in force.
#[cfg(unix)]
fn raise_soft_limit(wanted: u64) -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(wanted)
}

/// Elsewhere there is no such limit to raise.
#[cfg(not(unix))]
fn raise_soft_limit(wanted: u64) -> std::io::Result<u64> {
    Ok(wanted)
}
