//! Ids remembered for a while: which `webhook-id`s were delivered, which predictions finished.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

/// The most recent ids, at least `generation` and at most twice that, as 64-bit hashes keyed per
/// process (so not predictable from outside): about 9 bytes an id, not a string.
///
/// Two generations rather than a queue of insertion order: when the current one is full, the previous
/// one is forgotten at once (its table cleared and reused), so remembering costs no second copy of
/// every hash.
#[derive(Debug)]
pub(crate) struct RecentIds {
    keys: RandomState,
    generation: usize,
    current: HashSet<u64>,
    previous: HashSet<u64>,
}

impl RecentIds {
    /// Remembers at least the last `generation` ids (and at most twice as many).
    pub(crate) fn new(generation: usize) -> Self {
        RecentIds {
            keys: RandomState::new(),
            generation: generation.max(1),
            current: HashSet::new(),
            previous: HashSet::new(),
        }
    }

    /// Records `id`; false when it is remembered already.
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        let key = self.keys.hash_one(id);
        if self.previous.contains(&key) || !self.current.insert(key) {
            return false;
        }
        if self.current.len() >= self.generation {
            self.previous.clear();
            std::mem::swap(&mut self.current, &mut self.previous);
        }
        true
    }

    /// Whether `id` is remembered.
    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) fn contains(&self, id: &str) -> bool {
        let key = self.keys.hash_one(id);
        self.current.contains(&key) || self.previous.contains(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::RecentIds;

    #[test]
    fn a_repeated_id_is_known() {
        let mut ids = RecentIds::new(4);
        assert!(ids.insert("a"));
        assert!(ids.contains("a"));
        assert!(!ids.contains("b"));
        assert!(!ids.insert("a"), "a repeat");
    }

    #[test]
    fn the_last_generation_is_remembered_and_older_ones_forgotten() {
        let mut ids = RecentIds::new(3);
        let names: Vec<String> = (0..10).map(|i| format!("id{i}")).collect();
        for name in &names {
            assert!(ids.insert(name));
        }
        // The last 3 at least, and never more than 6.
        for name in &names[7..] {
            assert!(ids.contains(name), "{name} is recent");
        }
        let remembered = names.iter().filter(|n| ids.contains(n)).count();
        assert!((3..=6).contains(&remembered), "{remembered} remembered");
        assert!(!ids.contains(&names[0]), "the oldest is forgotten");
        assert!(ids.insert(&names[0]), "and is new again");
    }
}
