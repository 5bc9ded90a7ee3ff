//! The in-process ephemeral store: a locked map with expiry times. Taking a
//! value removes it under the lock, so single use holds across threads.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    writes: std::sync::atomic::AtomicU64,
}

/// Expired entries are swept every this many writes, so the map stays
/// bounded by what is live without a background task.
const SWEEP_EVERY: u64 = 1024;

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (every write is one insert), so a poisoned map is still sound.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn after_write(&self, map: &mut HashMap<String, Entry>, now: Instant) {
        use std::sync::atomic::Ordering;
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            map.retain(|_, e| e.expires > now);
        }
    }

    pub fn put(&self, key: &str, value: &[u8], ttl_secs: u64) {
        let now = Instant::now();
        let mut map = self.lock();
        map.insert(
            key.to_string(),
            Entry {
                value: value.to_vec(),
                expires: now + Duration::from_secs(ttl_secs),
            },
        );
        self.after_write(&mut map, now);
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        let map = self.lock();
        map.get(key)
            .filter(|e| e.expires > now)
            .map(|e| e.value.clone())
    }

    pub fn take(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        self.lock()
            .remove(key)
            .filter(|e| e.expires > now)
            .map(|e| e.value)
    }

    pub fn incr(&self, key: &str, ttl_secs: u64) -> i64 {
        let now = Instant::now();
        let mut map = self.lock();
        let entry = map
            .entry(key.to_string())
            .and_modify(|e| {
                if e.expires <= now {
                    e.value = b"0".to_vec();
                    e.expires = now + Duration::from_secs(ttl_secs);
                }
            })
            .or_insert_with(|| Entry {
                value: b"0".to_vec(),
                expires: now + Duration::from_secs(ttl_secs),
            });
        let count = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
            + 1;
        entry.value = count.to_string().into_bytes();
        self.after_write(&mut map, now);
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_single_use() {
        let store = MemoryStore::default();
        store.put("code", b"v", 60);
        assert_eq!(store.take("code").as_deref(), Some(&b"v"[..]));
        assert_eq!(store.take("code"), None);
    }

    #[test]
    fn expired_values_are_gone() {
        let store = MemoryStore::default();
        store.put("k", b"v", 0);
        assert_eq!(store.get("k"), None);
        assert_eq!(store.take("k"), None);
    }

    #[test]
    fn racing_takers_get_the_value_once() {
        let store = std::sync::Arc::new(MemoryStore::default());
        store.put("code", b"v", 60);
        let winners: usize = (0..8)
            .map(|_| {
                let s = store.clone();
                std::thread::spawn(move || s.take("code").is_some() as usize)
            })
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(winners, 1);
    }

    #[test]
    fn counters_count_and_restart_after_expiry() {
        let store = MemoryStore::default();
        assert_eq!(store.incr("c", 60), 1);
        assert_eq!(store.incr("c", 60), 2);
        store.put("d", b"5", 0);
        assert_eq!(store.incr("d", 60), 1);
    }
}
