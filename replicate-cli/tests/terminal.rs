//! The command on a terminal: the built binary run under a pseudo-terminal against the emulator. On a
//! terminal, `run` shows a progress line (status, elapsed time, the percentage the model logged) and a
//! summary; with stdout piped, stdout holds only the output. `auth login` does not echo the token.

#![cfg(unix)]

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use common::{Emu, eventually};
use nix::pty::{Winsize, openpty};
use nix::sys::termios::{LocalFlags, tcgetattr};
use replicate_emulator::{ModelSpec, RunContext, cog_schema};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// A command whose stdin and stderr (and stdout unless piped) are a pseudo-terminal; everything written
/// to the terminal is collected. The process is killed when dropped.
struct OnTerminal {
    child: Option<Child>,
    /// The terminal's master side: what is written here is typed on the terminal.
    keyboard: File,
    /// A descriptor of the terminal side, kept to read its modes; dropped before waiting for the end
    /// (the screen reader stops when no descriptor of that side is left open).
    terminal: Option<OwnedFd>,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl OnTerminal {
    fn spawn(mut cmd: Command, pipe_stdout: bool) -> OnTerminal {
        let size = Winsize { ws_row: 24, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0 };
        let pty = openpty(&size, None).unwrap();
        let side = || pty.slave.try_clone().unwrap();
        cmd.stdin(Stdio::from(side())).stderr(Stdio::from(side()));
        if pipe_stdout {
            cmd.stdout(Stdio::piped());
        } else {
            cmd.stdout(Stdio::from(side()));
        }
        let child = cmd.spawn().unwrap();
        drop(cmd);
        let keyboard = File::from(pty.master);
        let mut display = keyboard.try_clone().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = screen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with an error (EIO) or 0 once the terminal side is closed everywhere.
            while let Ok(n @ 1..) = display.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        OnTerminal { child: Some(child), keyboard, terminal: Some(pty.slave), screen, reader: Some(reader) }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits (bounded) until the screen shows `text`.
    fn wait_for(&self, text: &str) {
        eventually(|| self.screen().contains(text).then_some(()));
    }

    /// Waits (bounded) until the terminal no longer echoes what is typed.
    fn wait_until_echo_is_off(&self) {
        let terminal = self.terminal.as_ref().unwrap();
        eventually(|| (!tcgetattr(terminal).unwrap().local_flags.contains(LocalFlags::ECHO)).then_some(()));
    }

    fn type_line(&mut self, line: &str) {
        self.keyboard.write_all(format!("{line}\n").as_bytes()).unwrap();
        self.keyboard.flush().unwrap();
    }

    /// Waits (bounded by [`common::LIMIT`]) for the end: the exit code, the piped stdout (if any) and the screen.
    fn finish(mut self) -> (Option<i32>, String, String) {
        self.terminal = None;
        let mut child = self.child.take().unwrap();
        let stdout = child.stdout.take().map(|mut out| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                s
            })
        });
        let status = common::wait(&mut child, || self.screen());
        self.reader.take().unwrap().join().unwrap();
        let stdout = stdout.map(|t| t.join().unwrap()).unwrap_or_default();
        (status.code(), stdout, self.screen())
    }
}

impl Drop for OnTerminal {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A model that logs progress bars the way tqdm does, and holds at 50% until `resume` is notified.
fn progress_model(resume: Arc<Notify>) -> ModelSpec {
    let schema = cog_schema(json!({}), &[], json!({"type": "string", "title": "Output"}), json!({}));
    ModelSpec::new("test/progress", schema, move |_input: Value, ctx: RunContext| {
        let resume = resume.clone();
        async move {
            ctx.log(" 10%|█         | 1/10 [00:01<00:09,  1.00it/s]");
            ctx.log(" 50%|█████     | 5/10 [00:05<00:05,  1.00it/s]");
            resume.notified().await;
            ctx.log("100%|██████████| 10/10 [00:10<00:00,  1.00it/s]");
            Ok(Value::from("done"))
        }
    })
}

#[test]
fn on_a_terminal_run_shows_progress_and_a_summary() {
    let resume = Arc::new(Notify::new());
    let emu = Emu::with("tty-run", |b| b.model(progress_model(resume.clone())));
    let run = OnTerminal::spawn(emu.cmd(&["run", "test/progress"]), false);
    // The progress line: the status with the model's percentage, then the elapsed time.
    run.wait_for("processing 50% (");
    resume.notify_one();
    let (code, _, screen) = run.finish();
    assert_eq!(code, Some(0), "{screen}");
    // The output, then the summary naming the prediction the progress line showed.
    let output = screen.find("done\r\n").unwrap_or_else(|| panic!("no output: {screen}"));
    let summary = screen.find("prediction ").unwrap_or_else(|| panic!("no summary: {screen}"));
    assert!(output < summary, "{screen}");
    let id = screen[summary..].split(' ').nth(1).unwrap_or_default();
    assert!(screen[summary..].starts_with(&format!("prediction {id} succeeded in ")), "{screen}");
    let p = emu.block_on(emu.client().predictions().get(id)).unwrap();
    assert_eq!(p.output, Value::from("done"));
    assert!(screen.contains(&format!("{id} processing 50% (")), "{screen}");
}

#[test]
fn with_stdout_piped_stdout_holds_only_the_output() {
    let emu = Emu::start("tty-pipe");
    let run = OnTerminal::spawn(emu.cmd(&["run", "replicate/hello-world", "text=pipe"]), true);
    let (code, stdout, screen) = run.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(stdout, "hello pipe\n");
    // The progress and the summary stay on the terminal (stderr).
    assert!(screen.contains("succeeded in "), "{screen}");
    assert!(!screen.contains("hello pipe"), "{screen}");
}

#[test]
fn auth_login_on_a_terminal_does_not_echo_the_token() {
    let emu = Emu::start("tty-login");
    let mut cmd = emu.cmd(&["auth", "login", "--no-verify"]);
    cmd.env_remove("REPLICATE_API_TOKEN");
    let mut login = OnTerminal::spawn(cmd, false);
    login.wait_for("it is not shown");
    login.wait_until_echo_is_off();
    login.type_line("r8_typed_secret");
    let (code, _, screen) = login.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("r8_typed_secret"), "the token was echoed: {screen}");
    assert!(screen.contains("token stored in"), "{screen}");
    let stored: Value =
        serde_json::from_slice(&common::read(&emu.dir.join("config/replicate/config.json"))).unwrap();
    assert_eq!(stored["token"], "r8_typed_secret");
}
