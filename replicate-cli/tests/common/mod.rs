//! The built `replicate` binary run against an in-process emulator.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use replicate_core::Replicate;
use replicate_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};

/// How long any one command may take before the test fails (and the process is killed).
pub const LIMIT: Duration = Duration::from_secs(60);

/// An emulator served by its own runtime, and a scratch directory used as HOME, config dir and cwd.
pub struct Emu {
    pub rt: tokio::runtime::Runtime,
    pub handle: Option<EmulatorHandle>,
    pub dir: PathBuf,
}

impl Emu {
    pub fn start(tag: &str) -> Emu {
        Self::with(tag, |b| b)
    }

    pub fn with(tag: &str, configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let handle = rt.block_on(configure(Emulator::builder().time_scale(0.2)).start()).unwrap();
        let dir = std::env::temp_dir().join(format!("replicate-cli-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Emu { rt, handle: Some(handle), dir }
    }

    pub fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().unwrap()
    }

    pub fn base_url(&self) -> String {
        self.handle().base_url().to_owned()
    }

    /// A client of the emulator, to check what the command did.
    pub fn client(&self) -> Replicate {
        Replicate::builder().bearer_token("r8_test").base_url(self.base_url()).build().unwrap()
    }

    /// `replicate` with the emulator's URL and a token in the environment, an empty HOME and config
    /// directory, run in the scratch directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_replicate"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("REPLICATE_API_TOKEN", "r8_test")
            .env("REPLICATE_BASE_URL", self.base_url())
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env_remove("REPLICATE_SCHEMA_DIR")
            .env("RUST_BACKTRACE", "0");
        cmd
    }

    /// Runs `replicate args...` to the end.
    pub fn run(&self, args: &[&str]) -> Out {
        run(self.cmd(args), None)
    }

    /// Runs `replicate args...` with `stdin`.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Out {
        run(self.cmd(args), Some(stdin))
    }

    pub fn block_on<F: std::future::IntoFuture>(&self, f: F) -> F::Output {
        self.rt.block_on(f.into_future())
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Out {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Fails the test with the output unless the command succeeded.
    pub fn ok(self) -> Out {
        assert!(self.status.success(), "command failed: {self:#?}");
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// A child process killed when dropped (also on panic).
pub struct Guard(pub Option<Child>);

impl Guard {
    pub fn id(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    /// Waits (bounded by [`LIMIT`]) and collects the output.
    pub fn finish(mut self) -> Out {
        let mut child = self.0.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let status = wait(&mut child, String::new);
        Out { status, stdout: out_reader.join().unwrap(), stderr: err_reader.join().unwrap() }
    }
}

/// Waits for `child` to exit; after [`LIMIT`] kills it and fails the test, with what `shown` says it
/// printed.
pub fn wait(child: &mut Child, shown: impl Fn() -> String) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the command ran longer than {LIMIT:?}; it printed:\n{}", shown());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts a command with piped stdio.
pub fn spawn(mut cmd: Command, stdin: Option<&[u8]>) -> Guard {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(bytes).unwrap();
    }
    Guard(Some(child))
}

pub fn run(cmd: Command, stdin: Option<&[u8]>) -> Out {
    spawn(cmd, stdin).finish()
}

/// Polls `check` every 20 ms until it gives a value (bounded by [`LIMIT`]).
pub fn eventually<T>(mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(started.elapsed() < LIMIT, "condition not met within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
