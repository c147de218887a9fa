//! A `redis-server` of a test (or a bench, or the cluster example) on a free loopback port, with an
//! append-only file (`appendfsync always`, so a restart keeps the data), killed when dropped, panics
//! included. Shared through `#[path]` by `tests/cluster.rs`, `benches/in_flight.rs` and
//! `examples/cluster.rs`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `redis-server`, killed (and its directory removed) when dropped.
pub(crate) struct Redis {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: std::path::PathBuf,
}

impl Redis {
    /// Starts a server on a free port (`REDIS_SERVER` names the binary; `redis-server` by default).
    pub(crate) fn start() -> Result<Redis, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("actors-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Self::start_on(port, dir)
    }

    /// Starts a server on `port` with its files in `dir` (again after [`Redis::stop`], say).
    pub(crate) fn start_on(port: u16, dir: std::path::PathBuf) -> Result<Redis, String> {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"])
            .args(["--appendfsync", "always", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server (scripts/setup/replicate-actors.sh installs it): {e}"))?;
        let redis = Redis { child, port, dir };
        for _ in 0..250 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(redis);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("redis-server is not listening on port {port} after 5 s"))
    }

    /// Its URL, for `RedisCluster::connect_with`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL); its files stay for [`Redis::start_on`].
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
