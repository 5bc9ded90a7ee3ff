//! Starts the real `tessera serve` binary on a free port.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::env::TestEnv;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const LISTENING_PREFIX: &str = "tessera: listening on ";

/// Directory holding the workspace binaries (`<workspace>/target/debug`, or
/// `TESSERA_TEST_BIN_DIR` when set).
pub fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("TESSERA_TEST_BIN_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("debug")
}

/// Path of a workspace binary; panics with the build command when it is missing.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    if !path.is_file() {
        panic!(
            "{} is missing: run `cargo build --workspace --bins` first",
            path.display()
        );
    }
    path
}

/// Removes inherited configuration so only what the test sets reaches the child.
pub(crate) fn scrub_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str() {
            if k.starts_with("TESSERA_") || k == "DATABASE_URL" || k == "REDIS_URL" {
                cmd.env_remove(k);
            }
        }
    }
}

/// A running `tessera serve` process; killed on drop.
pub struct Server {
    child: Child,
    base_url: String,
    issuer: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Spawns `tessera serve` for `env` with `TESSERA_BIND=127.0.0.1:0` and the env's storage,
    /// plus `extra` variables (which override the defaults, e.g. `TESSERA_ISSUER`), and waits
    /// until it prints its listening line.
    pub fn start(env: &TestEnv, extra: &[(&str, &str)]) -> Server {
        let bin = binary("tessera");
        let mut cmd = Command::new(&bin);
        cmd.arg("serve");
        scrub_env(&mut cmd);
        cmd.env("TESSERA_BIND", "127.0.0.1:0");
        for (k, v) in env.vars() {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.current_dir(env.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().expect("piped stderr");
        let stderr_buf = Arc::clone(&stderr);
        let stderr_thread = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match child_stderr.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => stderr_buf
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&chunk[..n])),
                }
            }
        });

        let (tx, rx) = mpsc::channel::<String>();
        let child_stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            // Keeps draining stdout after the listening line so the child never blocks.
            for line in BufReader::new(child_stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // Receiver gone: keep reading anyway.
                }
            }
        });

        let deadline = Instant::now() + READY_TIMEOUT;
        let mut stdout_seen = String::new();
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(remaining) {
                Ok(line) => {
                    stdout_seen.push_str(&line);
                    stdout_seen.push('\n');
                    if let Some((base_url, issuer)) = parse_listening_line(&line) {
                        return Server {
                            child,
                            base_url,
                            issuer,
                            stderr,
                        };
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait();
                    let _ = stderr_thread.join();
                    panic!(
                        "tessera serve exited before listening ({status:?})\n--- stdout ---\n{stdout_seen}\n--- stderr ---\n{}",
                        stderr.lock().unwrap()
                    );
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = stderr_thread.join();
                    panic!(
                        "tessera serve did not print `{LISTENING_PREFIX}...` within {READY_TIMEOUT:?}\n--- stdout ---\n{stdout_seen}\n--- stderr ---\n{}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The issuer the server announced.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `base_url` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            eprintln!(
                "--- stderr of tessera serve at {} ---\n{}",
                self.base_url, log
            );
        }
    }
}

/// Parses `tessera: listening on http://ADDR (issuer ISSUER)` into (base URL, issuer).
pub fn parse_listening_line(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix(LISTENING_PREFIX)?;
    let (addr, issuer) = rest.split_once(" (issuer ")?;
    let issuer = issuer.strip_suffix(')')?;
    if !addr.starts_with("http://") {
        return None;
    }
    Some((
        addr.trim_end_matches('/').to_string(),
        issuer.trim().to_string(),
    ))
}

/// A currently free loopback port (bound and released; used where a test must know the
/// address before the server starts, e.g. to give two processes one issuer).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

#[cfg(test)]
mod tests {
    use super::parse_listening_line;

    #[test]
    fn parses_listening_line() {
        assert_eq!(
            parse_listening_line(
                "tessera: listening on http://127.0.0.1:4321 (issuer http://127.0.0.1:4321)"
            ),
            Some((
                "http://127.0.0.1:4321".to_string(),
                "http://127.0.0.1:4321".to_string()
            ))
        );
        assert_eq!(
            parse_listening_line(
                "tessera: listening on http://127.0.0.1:1 (issuer https://id.example.test/t)"
            )
            .unwrap()
            .1,
            "https://id.example.test/t"
        );
        assert!(parse_listening_line("something else").is_none());
    }
}
