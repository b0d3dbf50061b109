//! The per-client connection limit ([`ServerBuilder::max_connections_per_peer`](super::ServerBuilder::max_connections_per_peer)):
//! how many connection slots each client address holds.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// The connections each client holds, shared by the accept loop (which takes a slot) and the
/// connections (which give theirs back when they end).
#[derive(Debug)]
pub(crate) struct PeerSlots {
    max: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

impl PeerSlots {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `peer`, unless its client already holds every one it may.
    pub(crate) fn take(self: &Arc<Self>, peer: IpAddr) -> Option<PeerSlot> {
        let client = client_of(peer);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(client).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            slots: self.clone(),
            client,
        })
    }
}

/// One connection's slot; given back when dropped.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    slots: Arc<PeerSlots>,
    client: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// The client an address stands for: an IPv4 address (an IPv4-mapped IPv6 one counts as it),
/// or an IPv6 /64 prefix, which a single host is commonly given whole.
fn client_of(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_of(a), client_of(b));
        assert_ne!(client_of(a), client_of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_of(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn slots_are_counted_per_client_and_given_back() {
        let slots = PeerSlots::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_none());
        assert!(slots.take("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(slots.take(a).is_some());
    }
}
