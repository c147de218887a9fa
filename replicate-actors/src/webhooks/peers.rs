//! The served receiver's connections by peer address: one address holds at most its share of the
//! connection slots. Its further connections wait in line (first come, first served) for one of its
//! own to finish, holding only their socket, so a burst from one sender (a proxy or load balancer in
//! front of the replicas) is served rather than refused; a bounded number of them, each for a bounded
//! time; the rest are closed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One address: its share of the slots, and how many of its connections wait for one.
#[derive(Debug)]
struct Peer {
    /// `max` permits: one per open connection; waiters queue on it in order. Every open connection's
    /// permit and every waiter holds a clone, so the entry is in use while it has more than one.
    slots: Arc<Semaphore>,
    waiting: usize,
}

/// Connections open and waiting, by peer address.
#[derive(Debug, Default)]
pub(super) struct Peers {
    peers: Mutex<HashMap<IpAddr, Peer>>,
}

impl Peers {
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Peer>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn peer(map: &mut HashMap<IpAddr, Peer>, ip: IpAddr, max: usize) -> &mut Peer {
        map.entry(ip).or_insert_with(|| Peer {
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            waiting: 0,
        })
    }

    /// A slot for a connection from `ip`, if that address holds fewer than `max` and none of its
    /// connections wait (they come first).
    pub(super) fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut map = self.lock();
        let peer = Self::peer(&mut map, ip, max);
        let permit = peer.slots.clone().try_acquire_owned().ok()?;
        Some(PeerSlot { peers: self.clone(), ip, permit: Some(permit) })
    }

    /// Waits in line, up to `patience`, for a slot for `ip`; `None` at once when `max_waiting`
    /// connections from that address already wait, or when no slot frees up in time.
    pub(super) async fn wait(
        self: &Arc<Self>,
        ip: IpAddr,
        max: usize,
        max_waiting: usize,
        patience: Duration,
    ) -> Option<PeerSlot> {
        let slots = {
            let mut map = self.lock();
            let peer = Self::peer(&mut map, ip, max);
            if peer.waiting >= max_waiting {
                Self::settle(&mut map, ip);
                return None;
            }
            peer.waiting += 1;
            peer.slots.clone()
        };
        let _waiting = Waiting { peers: self.clone(), ip };
        // `slots` moves into the wait: given up, it is gone before `_waiting` settles the entry.
        let permit = tokio::time::timeout(patience, slots.acquire_owned()).await.ok()?.ok()?;
        Some(PeerSlot { peers: self.clone(), ip, permit: Some(permit) })
    }

    /// Forgets an address once nothing of it is open or waiting (no permit or waiter holds its slots).
    fn settle(map: &mut HashMap<IpAddr, Peer>, ip: IpAddr) {
        if map.get(&ip).is_some_and(|p| p.waiting == 0 && Arc::strong_count(&p.slots) == 1) {
            map.remove(&ip);
        }
    }
}

/// A connection counted against its peer's address until it closes.
pub(super) struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
    /// Returned to the address's line when the connection closes: the next waiter gets it.
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        // Given back first, so that `settle` sees it returned.
        drop(self.permit.take());
        Peers::settle(&mut self.peers.lock(), self.ip);
    }
}

/// A connection waiting for a slot of its address, counted until it stops waiting.
struct Waiting {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut map = self.peers.lock();
        if let Some(peer) = map.get_mut(&self.ip) {
            peer.waiting = peer.waiting.saturating_sub(1);
        }
        Peers::settle(&mut map, self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn known(peers: &Peers) -> usize {
        peers.lock().len()
    }

    #[tokio::test]
    async fn waiters_are_served_in_order_and_the_address_is_forgotten_after() {
        let peers: Arc<Peers> = Default::default();
        let first = peers.take(IP, 1).expect("a free slot");
        assert!(peers.take(IP, 1).is_none(), "the address holds its share");
        let waiter = tokio::spawn({
            let peers = peers.clone();
            async move { peers.wait(IP, 1, 4, Duration::from_secs(5)).await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A newcomer does not overtake the waiter when the slot frees up.
        drop(first);
        assert!(peers.take(IP, 1).is_none(), "the slot went to the waiter");
        assert!(waiter.await.unwrap());
        assert_eq!(known(&peers), 0, "nothing open or waiting: forgotten");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_or_finds_the_line_full_leaves_nothing_behind() {
        let peers: Arc<Peers> = Default::default();
        let held = peers.take(IP, 1).expect("a free slot");
        assert!(peers.wait(IP, 1, 0, Duration::from_secs(5)).await.is_none(), "the line is full");
        assert!(peers.wait(IP, 1, 4, Duration::from_millis(20)).await.is_none(), "no slot in time");
        assert_eq!(known(&peers), 1, "still open");
        drop(held);
        assert_eq!(known(&peers), 0);
    }
}
