//! Session tickets for TLS 1.3 sessions only (see [`TlsConfig`](super::TlsConfig) on session
//! resumption): a TLS 1.2 ticket, sent in the clear, would carry the session's master secret
//! under a key that lives for hours.

use std::fmt;
use std::sync::Arc;

use rustls::server::ProducesTickets;

/// rustls's own ticketer (ChaCha20-Poly1305 keys made in memory, rotated every 6 h), refusing
/// to seal anything but a TLS 1.3 session.
///
/// rustls hands a ticketer the session it seals, but not the session's protocol version, so
/// this reads the version from the session's encoding. An encoding it cannot read is refused:
/// were rustls to change it, sessions would stop resuming rather than TLS 1.2 ones start to
/// (`tests/server.rs` checks both ways).
pub(crate) struct Tls13Tickets(Arc<dyn ProducesTickets>);

impl fmt::Debug for Tls13Tickets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing of the inner ticketer, whose state is key material.
        f.write_str("Tls13Tickets")
    }
}

impl Tls13Tickets {
    pub(crate) fn make() -> Result<Arc<dyn ProducesTickets>, rustls::Error> {
        Ok(Arc::new(Self(rustls::crypto::ring::Ticketer::new()?)))
    }
}

impl ProducesTickets for Tls13Tickets {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.0.lifetime()
    }

    /// `None` makes rustls send no TLS 1.3 ticket, and an empty TLS 1.2 one (RFC 5077, 3.3:
    /// the server changed its mind), so the client has nothing to resume with.
    fn encrypt(&self, session: &[u8]) -> Option<Vec<u8>> {
        if session_version(session)? != TLS13 {
            return None;
        }
        self.0.encrypt(session)
    }

    fn decrypt(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        self.0.decrypt(ticket)
    }
}

/// TLS 1.3 on the wire.
const TLS13: [u8; 2] = [0x03, 0x04];

/// The protocol version of a session as rustls (0.23) encodes it for its ticketer: a byte
/// saying whether a server name follows (0 or 1), the name (a length byte, then its bytes),
/// then the version (two bytes, big-endian).
fn session_version(session: &[u8]) -> Option<[u8; 2]> {
    let (&has_name, rest) = session.split_first()?;
    let rest = match has_name {
        0 => rest,
        1 => {
            let (&len, rest) = rest.split_first()?;
            rest.get(usize::from(len)..)?
        }
        _ => return None,
    };
    rest.get(..2)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_after_the_optional_server_name() {
        assert_eq!(session_version(&[0, 3, 4, 0x13, 1]), Some([3, 4]));
        assert_eq!(
            session_version(b"\x01\x09localhost\x03\x03\x00"),
            Some([3, 3])
        );
        assert_eq!(session_version(b"\x01\x00\x03\x04"), Some([3, 4]));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for session in [&b""[..], b"\x00\x03", b"\x01\x09local", b"\x02\x03\x04"] {
            assert_eq!(session_version(session), None, "{session:?}");
        }
        let tickets = Tls13Tickets::make().unwrap();
        assert!(tickets.encrypt(b"\x00\x03\x03 a TLS 1.2 session").is_none());
        assert!(tickets.encrypt(b"\x07 not a session").is_none());
        let sealed = tickets.encrypt(b"\x00\x03\x04 a TLS 1.3 session").unwrap();
        assert_eq!(
            tickets.decrypt(&sealed).as_deref(),
            Some(&b"\x00\x03\x04 a TLS 1.3 session"[..])
        );
    }
}
