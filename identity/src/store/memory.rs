//! The in-process ephemeral store: a locked map with expiry times. Taking a
//! value removes it under the lock, so single use holds across threads.
//!
//! It is bounded: at `max_entries` it first drops what has expired, then
//! the evictable entries (state anyone can create without signing in, see
//! [`super::Key::evictable`]) that expire soonest, an eighth of the capacity
//! at a time. Sessions, codes, revocations and throttling state are never
//! evicted; when they alone fill the store a new evictable value is refused
//! ([`StoreError::Full`], answered 503) rather than dropping one of them.

use super::ephemeral::{AttemptPolicy, Reservation};
use super::StoreError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Entry {
    value: Vec<u8>,
    expires: Instant,
    evictable: bool,
}

/// The default `memory_store_max_entries`.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    writes: std::sync::atomic::AtomicU64,
    max_entries: usize,
    evictions: std::sync::atomic::AtomicU64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_capacity(DEFAULT_MAX_ENTRIES)
    }
}

/// Expired entries are swept every this many writes, so the map stays
/// bounded by what is live without a background task.
const SWEEP_EVERY: u64 = 1024;

impl MemoryStore {
    pub fn with_capacity(max_entries: usize) -> MemoryStore {
        MemoryStore {
            entries: Mutex::new(HashMap::new()),
            writes: Default::default(),
            max_entries: max_entries.max(8),
            evictions: Default::default(),
        }
    }

    /// Entries held, entries evicted since start.
    pub fn stats(&self) -> (usize, u64) {
        use std::sync::atomic::Ordering;
        (self.lock().len(), self.evictions.load(Ordering::Relaxed))
    }

    /// Makes room for one new entry; false when there is none to make.
    fn make_room(&self, map: &mut HashMap<String, Entry>, now: Instant) -> bool {
        use std::sync::atomic::Ordering;
        if map.len() < self.max_entries {
            return true;
        }
        map.retain(|_, e| e.expires > now);
        if map.len() < self.max_entries {
            return true;
        }
        let mut evictable: Vec<(Instant, String)> = map
            .iter()
            .filter(|(_, e)| e.evictable)
            .map(|(k, e)| (e.expires, k.clone()))
            .collect();
        if evictable.is_empty() {
            return false;
        }
        let batch = (self.max_entries / 8).clamp(1, evictable.len());
        evictable.select_nth_unstable(batch - 1);
        for (_, key) in &evictable[..batch] {
            map.remove(key);
        }
        self.evictions.fetch_add(batch as u64, Ordering::Relaxed);
        tracing::warn!(
            evicted = batch,
            max_entries = self.max_entries,
            "in-process store full: evicted pending requests and ceremonies"
        );
        true
    }

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

    /// Stores a value. Only an evictable value can be refused (`Full`):
    /// security state is always kept.
    pub fn put(
        &self,
        key: &str,
        value: &[u8],
        ttl_secs: u64,
        evictable: bool,
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut map = self.lock();
        if !map.contains_key(key) && !self.make_room(&mut map, now) && evictable {
            super::outage::note(super::outage::StoreName::Ephemeral);
            return Err(StoreError::Full);
        }
        map.insert(
            key.to_string(),
            Entry {
                value: value.to_vec(),
                expires: now + Duration::from_secs(ttl_secs),
                evictable,
            },
        );
        self.after_write(&mut map, now);
        Ok(())
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

    /// See [`super::Ephemeral::reserve_attempt`]; the value is
    /// `attempts locked_until`, the entry lives `window_secs` from the first
    /// attempt.
    pub fn reserve_attempt(&self, key: &str, policy: &AttemptPolicy, now: i64) -> Reservation {
        let instant = Instant::now();
        let mut map = self.lock();
        let live = map.get(key).filter(|e| e.expires > instant);
        let (attempts, locked_until, expires) = match live {
            Some(e) => {
                let text = String::from_utf8_lossy(&e.value).to_string();
                let mut parts = text.split(' ').map(|p| p.parse::<i64>().unwrap_or(0));
                (
                    parts.next().unwrap_or(0),
                    parts.next().unwrap_or(0),
                    e.expires,
                )
            }
            None => (
                0,
                0,
                instant + Duration::from_secs(policy.window_secs.max(1) as u64),
            ),
        };
        if locked_until > now {
            return Reservation::Locked {
                retry_after: locked_until - now,
            };
        }
        let attempts = attempts + 1;
        let locked_until = policy
            .lock_secs(attempts)
            .map_or(locked_until, |secs| now + secs);
        if !map.contains_key(key) {
            self.make_room(&mut map, instant);
        }
        map.insert(
            key.to_string(),
            Entry {
                value: format!("{attempts} {locked_until}").into_bytes(),
                expires,
                evictable: false,
            },
        );
        self.after_write(&mut map, instant);
        Reservation::Allowed
    }

    /// See [`super::Ephemeral::take_and_mark`]: one lock for both steps.
    pub fn take_and_mark(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl_secs: u64,
    ) -> Option<Vec<u8>> {
        let now = Instant::now();
        let mut map = self.lock();
        let taken = map.remove(key).filter(|e| e.expires > now)?;
        map.insert(
            marker.to_string(),
            Entry {
                value: mark.to_vec(),
                expires: now + Duration::from_secs(ttl_secs),
                evictable: false,
            },
        );
        Some(taken.value)
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
                evictable: false,
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
        store.put("code", b"v", 60, false).unwrap();
        assert_eq!(store.take("code").as_deref(), Some(&b"v"[..]));
        assert_eq!(store.take("code"), None);
    }

    #[test]
    fn expired_values_are_gone() {
        let store = MemoryStore::default();
        store.put("k", b"v", 0, false).unwrap();
        assert_eq!(store.get("k"), None);
        assert_eq!(store.take("k"), None);
    }

    #[test]
    fn racing_takers_get_the_value_once() {
        let store = std::sync::Arc::new(MemoryStore::default());
        store.put("code", b"v", 60, false).unwrap();
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
    fn reservations_stop_at_the_limit_and_lock_longer_each_time() {
        let store = MemoryStore::default();
        let policy = AttemptPolicy {
            max: 3,
            base_lock_secs: 30,
            max_lock_secs: 900,
            window_secs: 3600,
        };
        let now = 1_000;
        for _ in 0..3 {
            assert_eq!(
                store.reserve_attempt("a", &policy, now),
                Reservation::Allowed
            );
        }
        assert_eq!(
            store.reserve_attempt("a", &policy, now),
            Reservation::Locked { retry_after: 30 }
        );
        assert_eq!(
            store.reserve_attempt("b", &policy, now),
            Reservation::Allowed
        );
        // After the lock: one more attempt, then twice as long.
        assert_eq!(
            store.reserve_attempt("a", &policy, now + 30),
            Reservation::Allowed
        );
        assert_eq!(
            store.reserve_attempt("a", &policy, now + 30),
            Reservation::Locked { retry_after: 60 }
        );
    }

    #[test]
    fn parallel_reservations_never_exceed_the_limit() {
        let store = std::sync::Arc::new(MemoryStore::default());
        let policy = AttemptPolicy {
            max: 5,
            base_lock_secs: 30,
            max_lock_secs: 900,
            window_secs: 3600,
        };
        let allowed: usize = (0..20)
            .map(|_| {
                let s = store.clone();
                std::thread::spawn(move || {
                    (s.reserve_attempt("acct", &policy, 1_000) == Reservation::Allowed) as usize
                })
            })
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn a_full_store_evicts_anonymous_state_and_keeps_security_state() {
        let store = MemoryStore::with_capacity(16);
        for i in 0..8 {
            store
                .put(&format!("revoked-{i}"), b"1", 600, false)
                .unwrap();
        }
        for i in 0..1000 {
            store.put(&format!("authreq-{i}"), b"r", 600, true).unwrap();
        }
        let (entries, evicted) = store.stats();
        assert!(entries <= 16, "{entries} entries");
        assert!(evicted >= 1000 - 8, "{evicted} evicted");
        for i in 0..8 {
            assert!(
                store.get(&format!("revoked-{i}")).is_some(),
                "revocation {i} evicted"
            );
        }
        // The newest pending request is there.
        assert!(store.get("authreq-999").is_some());
        // Filled with security state only: a new pending request is refused,
        // security state is still kept.
        for i in 8..16 {
            store
                .put(&format!("revoked-{i}"), b"1", 600, false)
                .unwrap();
        }
        assert!(matches!(
            store.put("authreq-x", b"r", 600, true),
            Err(StoreError::Full)
        ));
        store.put("revoked-extra", b"1", 600, false).unwrap();
        assert!(store.get("revoked-extra").is_some());
    }

    #[test]
    fn counters_count_and_restart_after_expiry() {
        let store = MemoryStore::default();
        assert_eq!(store.incr("c", 60), 1);
        assert_eq!(store.incr("c", 60), 2);
        store.put("d", b"5", 0, false).unwrap();
        assert_eq!(store.incr("d", 60), 1);
    }
}
