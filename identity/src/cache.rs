//! A small bounded cache with a time to live, for values that are read on
//! every request and change rarely (clients, verified access tokens). When
//! full, it drops expired entries, then everything: simple, bounded, and a
//! miss only costs the lookup it saves.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let now = Instant::now();
        let map = self.lock();
        map.get(key)
            .filter(|(_, until)| *until > now)
            .map(|(v, _)| v.clone())
    }

    /// The value even if it expired up to `max_stale` ago: for serving a
    /// known value while its source is unreachable (stale-if-error).
    pub fn get_stale(&self, key: &K, max_stale: Duration) -> Option<V> {
        let now = Instant::now();
        let map = self.lock();
        map.get(key)
            .filter(|(_, until)| *until + max_stale > now)
            .map(|(v, _)| v.clone())
    }

    pub fn insert(&self, key: K, value: V, ttl: Duration) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= self.capacity {
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (value, now + ttl));
    }

    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_capacity_is_bounded() {
        let cache = TtlCache::new(2);
        cache.insert(1, "a", Duration::from_secs(60));
        cache.insert(2, "b", Duration::ZERO);
        assert_eq!(cache.get(&1), Some("a"));
        assert_eq!(cache.get(&2), None);
        cache.insert(3, "c", Duration::from_secs(60));
        cache.insert(4, "d", Duration::from_secs(60));
        assert!(cache.lock().len() <= 2);
        cache.remove(&4);
        assert_eq!(cache.get(&4), None);
        cache.insert(5, "e", Duration::ZERO);
        assert_eq!(cache.get(&5), None);
        assert_eq!(cache.get_stale(&5, Duration::from_secs(60)), Some("e"));
        assert_eq!(cache.get_stale(&5, Duration::ZERO), None);
    }
}
