//! A throw-away PostgreSQL cluster on a free loopback port.
//!
//! [`PgServer::start`] runs `initdb` into a new temporary folder and starts the server
//! with `pg_ctl` on `127.0.0.1` (its Unix socket inside that folder, so it never
//! touches a system cluster). Dropping the [`PgServer`] stops the server and removes
//! the folder.
//!
//! The server binaries are looked up in `/usr/lib/postgresql/*/bin` (the newest major
//! version first), then on `PATH`; `bash scripts/setup-test-deps.sh` installs them.
//! PostgreSQL refuses to run as root: when the tests run as root (as in CI), the
//! cluster's folder is handed to the `postgres` system user and every server command
//! runs as that user through `runuser`.
//!
//! ```no_run
//! let Some(pg) = telemetry_test_support::pg::start_or_skip("my_test") else {
//!     return;
//! };
//! println!("connect to {}", pg.url());
//! ```

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

/// The database user the cluster is created with (authentication: `trust`).
pub const USER: &str = "postgres";

/// A running throw-away cluster; stopped and deleted on drop.
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
}

/// Starts a cluster, or says why not: `None` when the PostgreSQL binaries are not
/// installed, after printing `SKIPPED <test>` on standard error.
///
/// # Panics
///
/// When the environment variable `CI` is set and the binaries are missing (a CI run
/// must not skip silently), or when the cluster cannot start (with its log).
pub fn start_or_skip(test: &str) -> Option<PgServer> {
    match PgServer::start() {
        Some(server) => Some(server),
        None if std::env::var_os("CI").is_some() => panic!(
            "{test}: the PostgreSQL server binaries (initdb, pg_ctl) are not installed; \
             run `bash scripts/setup-test-deps.sh`"
        ),
        None => {
            eprintln!(
                "SKIPPED {test}: PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin \
                 or PATH; run `bash scripts/setup-test-deps.sh`"
            );
            None
        }
    }
}

impl PgServer {
    /// Creates and starts a cluster; `None` when the binaries are not installed.
    ///
    /// # Panics
    ///
    /// When the binaries exist but the cluster cannot be created or started; the
    /// message holds the command's output and the server log.
    pub fn start() -> Option<PgServer> {
        let bin = find_bin_dir()?;
        let run_as = is_root().then_some("postgres");
        let dir = new_temp_dir();
        let data = dir.join("data");
        // From here on, dropping `server` removes the folder, also after a panic.
        let mut server = PgServer {
            bin,
            dir,
            port: 0,
            run_as,
        };
        if let Some(user) = run_as {
            run_checked(Command::new("chown").arg(user).arg(&server.dir), "chown");
        }
        let mut initdb = server.command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            USER,
            "-E",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]);
        run_checked(&mut initdb, "initdb");
        // A free port can be taken by someone else before the server binds it: retry.
        let mut last_error = String::new();
        for _ in 0..5 {
            server.port = free_port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{}' \
                 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                 -c max_connections=50",
                server.port,
                server.dir.display()
            );
            let output = server
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(server.dir.join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .output()
                .expect("pg_ctl runs");
            if output.status.success() {
                return Some(server);
            }
            last_error = describe(&output);
        }
        let log = fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
        panic!(
            "cannot start PostgreSQL in {}: {last_error}\nserver log:\n{log}",
            server.dir.display()
        );
    }

    /// The connection URL, e.g. `postgres://postgres@127.0.0.1:54321/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/postgres", self.port)
    }

    /// The TCP port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs SQL through `psql` (as the cluster's superuser) and returns its output
    /// (unaligned, tuples only); for setting up or inspecting the database without a
    /// client library.
    ///
    /// # Panics
    ///
    /// When `psql` fails, with its output.
    pub fn psql(&self, sql: &str) -> String {
        let output = self
            .command("psql")
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .args(["-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql `{sql}`: {}",
            describe(&output)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A command of the server's binary folder, run in the cluster's folder, as the
    /// `postgres` user when the tests run as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut c = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        };
        // The server's user may not be allowed into the test's directory.
        c.current_dir(&self.dir);
        c
    }

    /// The folder holding the cluster (`data/`) and its log (`server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .output();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `/usr/lib/postgresql/<newest>/bin`, else the folder of `initdb` on `PATH`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_tools(dir))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A new empty folder under the system temporary directory, readable by all (the
/// server's user must reach it).
fn new_temp_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let dir = std::env::temp_dir().join(format!(
            "telemetry-pg-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        if fs::create_dir(&dir).is_ok() {
            return dir;
        }
    }
    panic!(
        "cannot create a folder under {}",
        std::env::temp_dir().display()
    );
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn run_checked(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}",
        describe(&output)
    );
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_starts_answers_and_is_removed_on_drop() {
        let Some(pg) = start_or_skip("cluster_starts_answers_and_is_removed_on_drop") else {
            return;
        };
        assert_eq!(pg.psql("SELECT 40 + 2"), "42");
        assert!(pg.url().contains(&format!(":{}/", pg.port())));
        let dir = pg.dir().to_owned();
        drop(pg);
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}
