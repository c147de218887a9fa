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

/// One address: its share of the slots, and how many of its connections are open or waiting.
#[derive(Debug)]
struct Peer {
    /// `max` permits: one per open connection; waiters queue on it in order.
    slots: Arc<Semaphore>,
    open: usize,
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
            open: 0,
            waiting: 0,
        })
    }

    /// A slot for a connection from `ip`, if that address holds fewer than `max` and none of its
    /// connections wait (they come first).
    pub(super) fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut map = self.lock();
        let peer = Self::peer(&mut map, ip, max);
        let permit = peer.slots.clone().try_acquire_owned().ok()?;
        peer.open += 1;
        Some(PeerSlot { peers: self.clone(), ip, _permit: permit })
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
        let waiting = Waiting { peers: self.clone(), ip };
        let permit = tokio::time::timeout(patience, slots.acquire_owned()).await.ok()?.ok()?;
        // Counted as open before it stops counting as waiting, so the entry is never dropped between.
        if let Some(peer) = self.lock().get_mut(&ip) {
            peer.open += 1;
        }
        drop(waiting);
        Some(PeerSlot { peers: self.clone(), ip, _permit: permit })
    }

    /// Forgets an address once nothing of it is open or waiting.
    fn settle(map: &mut HashMap<IpAddr, Peer>, ip: IpAddr) {
        if map.get(&ip).is_some_and(|p| p.open == 0 && p.waiting == 0) {
            map.remove(&ip);
        }
    }
}

/// A connection counted against its peer's address until it closes.
pub(super) struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
    /// Returned to the address's line when the connection closes: the next waiter gets it.
    _permit: OwnedSemaphorePermit,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut map = self.peers.lock();
        if let Some(peer) = map.get_mut(&self.ip) {
            peer.open = peer.open.saturating_sub(1);
        }
        Peers::settle(&mut map, self.ip);
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
