//! A `redis-server` of a test (or a bench, or the cluster example) on a free loopback port, with an
//! append-only file (`appendfsync always`, so a restart keeps the data), killed when dropped, panics
//! included. Shared through `#[path]` by `tests/cluster.rs`, `benches/in_flight.rs` and
//! `examples/cluster.rs`.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A loopback port free now, for a server started a moment later (this `redis-server`, a replica's
/// receiver), chosen outside Linux's ephemeral range (32768-60999): a port from that range can become
/// the local port of an outgoing connection before the server binds it (or binds it again after a
/// restart), which then fails with "address in use".
pub(crate) fn free_port() -> Result<u16, String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(std::process::id()).wrapping_mul(7919).wrapping_add(u64::from(nanos));
    for _ in 0..1000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (seed.wrapping_add(n.wrapping_mul(4099)) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free port in 20000-31999".to_owned())
}

/// A running `redis-server`, killed (and its directory removed) when dropped.
pub(crate) struct Redis {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: std::path::PathBuf,
}

impl Redis {
    /// Starts a server on a free port (`REDIS_SERVER` names the binary; `redis-server` by default).
    pub(crate) fn start() -> Result<Redis, String> {
        let port = free_port()?;
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
