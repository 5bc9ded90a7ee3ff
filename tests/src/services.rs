//! Throwaway PostgreSQL and Redis servers that a test owns and may stop and start (outage
//! tests). Each lives in its own temporary directory on a free port on 127.0.0.1 and is
//! stopped and removed when dropped. The binaries come from the Debian packages that
//! `tests/run.sh` installs (`postgresql`, `redis-server`); a missing binary fails the test
//! with the package to install, it never skips.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::free_port;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `initdb` and `pg_ctl`: on PATH, else the newest `/usr/lib/postgresql/*/bin`.
fn pg_bin_dir() -> PathBuf {
    if let Ok(path) = which("initdb") {
        if let Some(dir) = path.parent() {
            if dir.join("pg_ctl").exists() {
                return dir.to_path_buf();
            }
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("initdb").exists() && d.join("pg_ctl").exists());
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries (initdb, pg_ctl); install the Debian package postgresql"
        )
    })
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

fn run(mut cmd: Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL cluster of its own (initdb, trust auth, fsync off).
pub struct ThrowawayPostgres {
    dir: tempdir::Dir,
    bin: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: as root the cluster belongs to `postgres`.
    run_as: Option<String>,
}

impl ThrowawayPostgres {
    pub fn start() -> ThrowawayPostgres {
        let bin = pg_bin_dir();
        let dir = tempdir::Dir::new("tessera-pg");
        let run_as = is_root().then(|| "postgres".to_string());
        if let Some(user) = &run_as {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg(user).arg(dir.path());
                    c
                },
                "chown of the PostgreSQL directory",
            );
        }
        let pg = ThrowawayPostgres {
            dir,
            bin,
            port: free_port(),
            run_as,
        };
        let mut initdb = pg.command("initdb");
        initdb.arg("-D").arg(pg.data()).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(initdb, "initdb");
        pg.start_again();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    /// Admin URL (database `postgres`) the tests may `CREATE DATABASE` from.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts (again) on the same port with the same data; returns when it accepts connections.
    pub fn start_again(&self) {
        let mut start = self.command("pg_ctl");
        start
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=100",
                self.port,
                self.dir.path().display()
            ))
            .arg("start");
        run(start, "pg_ctl start");
        wait_for_port(self.port, Duration::from_secs(30));
    }

    /// Stops the server the way an outage does (immediate: connections are cut).
    pub fn stop(&self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "30", "stop"]);
        run(stop, "pg_ctl stop");
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let mut stop = self.command("pg_ctl");
            stop.arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let _ = stop.status();
        }
    }
}

/// A Redis server of its own, with an append-only file as production Redis should have (the
/// deny-list of revoked tokens lives there and must survive a restart).
pub struct ThrowawayRedis {
    dir: tempdir::Dir,
    port: u16,
    child: Option<Child>,
}

impl ThrowawayRedis {
    pub fn start() -> ThrowawayRedis {
        which("redis-server")
            .unwrap_or_else(|_| panic!("no redis-server; install the Debian package redis-server"));
        let mut redis = ThrowawayRedis {
            dir: tempdir::Dir::new("tessera-redis"),
            port: free_port(),
            child: None,
        };
        redis.start_again();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port; returns when it accepts connections.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "Redis is already running");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server: {e}"));
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(20));
    }

    /// Stops the server (SIGTERM: it finishes its append-only file and exits); connections are
    /// refused until [`Self::start_again`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, the outage
    /// that only timeouts end.
    pub fn freeze(&self) {
        signal(self.child.as_ref().expect("Redis is not running"), "STOP");
    }

    /// Undoes [`Self::freeze`].
    pub fn thaw(&self) {
        signal(self.child.as_ref().expect("Redis is not running"), "CONT");
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, name: &str) {
    run(
        {
            let mut c = Command::new("kill");
            c.arg(format!("-{name}")).arg(child.id().to_string());
            c
        },
        "kill",
    );
}

fn wait_for_port(port: u16, limit: Duration) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < limit,
            "nothing accepts connections on 127.0.0.1:{port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

mod tempdir {
    use super::*;

    /// A directory under the system temp dir, removed on drop.
    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(prefix: &str) -> Dir {
            let path =
                std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
