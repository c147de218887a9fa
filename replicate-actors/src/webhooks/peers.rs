//! The served receiver's connections by peer address: one address holds at most its share of the
//! connection slots. Its further connections wait a moment for one of its own to finish, holding only
//! their socket (a burst from one sender, such as a proxy or load balancer in front of the replicas,
//! is served rather than refused), a bounded number of them; the rest are closed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

/// How long a connection beyond its address's share waits for one of that address's to finish.
pub(super) const PEER_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    waiting: usize,
}

/// Connections open and waiting, by peer address.
#[derive(Debug, Default)]
pub(super) struct Peers {
    counts: Mutex<HashMap<IpAddr, Counts>>,
    /// Signalled when a connection closes.
    freed: Notify,
}

impl Peers {
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Counts>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a connection from `ip`, if that address holds fewer than `max`.
    pub(super) fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut map = self.lock();
        let counts = map.entry(ip).or_default();
        if counts.open >= max {
            return None;
        }
        counts.open += 1;
        Some(PeerSlot { peers: self.clone(), ip })
    }

    /// Waits up to [`PEER_WAIT`] for a slot for `ip`; `None` at once when `max` connections from that
    /// address already wait, or when none frees up in time.
    pub(super) async fn wait(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        {
            let mut map = self.lock();
            let counts = map.entry(ip).or_default();
            if counts.waiting >= max {
                return None;
            }
            counts.waiting += 1;
        }
        let _waiting = Waiting { peers: self.clone(), ip };
        let deadline = tokio::time::Instant::now() + PEER_WAIT;
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(slot) = self.take(ip, max) {
                return Some(slot);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Forgets an address once nothing of it is open or waiting.
    fn settle(map: &mut HashMap<IpAddr, Counts>, ip: IpAddr) {
        if map.get(&ip).is_some_and(|c| c.open == 0 && c.waiting == 0) {
            map.remove(&ip);
        }
    }
}

/// A connection counted against its peer's address until it closes.
pub(super) struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        {
            let mut map = self.peers.lock();
            if let Some(counts) = map.get_mut(&self.ip) {
                counts.open = counts.open.saturating_sub(1);
            }
            Peers::settle(&mut map, self.ip);
        }
        self.peers.freed.notify_waiters();
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
        if let Some(counts) = map.get_mut(&self.ip) {
            counts.waiting = counts.waiting.saturating_sub(1);
        }
        Peers::settle(&mut map, self.ip);
    }
}
