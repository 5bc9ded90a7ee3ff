//! The ceiling for password logins: how many argon2id verifications one
//! core does per second with the configured parameters, through the same
//! `PasswordHasher` the login uses. `tests/bench/run.sh` runs it pinned to
//! the server's core and compares logins per CPU-second against it.
//!
//! cargo run --release -p tessera-identity --example argon2_alone [SECONDS]

use std::time::{Duration, Instant};
use tessera_identity::accounts::{PasswordHasher, PasswordPolicy, Verified};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let hasher = PasswordHasher::new(
        PasswordPolicy {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        },
        1,
    )
    .expect("argon2 parameters");
    let stored = hasher
        .hash("correct horse battery staple".into())
        .await
        .expect("hash");
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut count = 0u64;
    while Instant::now() < until {
        let verified = hasher
            .verify(Some(stored.clone()), "correct horse battery staple".into())
            .await;
        assert!(matches!(verified, Verified::Correct { .. }));
        count += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The argon2 crate's own verify (allocating its memory each time), for comparison.
    let reference = {
        use argon2::password_hash::{phc::PasswordHash, PasswordVerifier};
        let parsed = PasswordHash::new(&stored).expect("phc");
        let argon2 = argon2::Argon2::default();
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(seconds) {
            argon2
                .verify_password(b"correct horse battery staple", &parsed)
                .expect("verify");
            n += 1;
        }
        n as f64 / started.elapsed().as_secs_f64()
    };
    println!("ARGON2_CRATE per_second={reference:.1}");
    println!(
        "ARGON2 verifications={count} seconds={elapsed:.2} per_second={:.1} ms_each={:.2}",
        count as f64 / elapsed,
        elapsed * 1000.0 / count as f64
    );
}
