//! Writes a synthetic JSONL event file for benchmarks: `--events N` records from
//! `--users U` users over `--days D` days, deterministic for a given `--seed`.
//!
//! ```sh
//! cargo run --release -p telemetry-analysis --example generate -- \
//!     --events 10000000 --users 100000 --days 90 -o target/bench/events.jsonl
//! ```
//!
//! Users arrive evenly over the period and come back less and less (each has a
//! loyalty; a user's chance to open the app decays with the weeks since arrival), so
//! retention and churn look like a real app's. A session opens the app and walks the
//! ordering funnel `search.performed -> restaurant.viewed -> cart.item_added ->
//! checkout.started -> payment.completed`, dropping out at each step; a checkout
//! charges the card through an instrumented function (`payment.provider_charged`,
//! with a log-normal duration, about 8% errors and a few panics). Time advances with
//! the records written, so the file is in time order by session.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// SplitMix64: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A standard normal deviate (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

struct Args {
    events: u64,
    users: u64,
    days: u64,
    seed: u64,
    start: String,
    out: PathBuf,
}

const USAGE: &str =
    "usage: generate [--events N] [--users U] [--days D] [--seed S] [--start YYYY-MM-DD] -o FILE";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        events: 1_000_000,
        users: 10_000,
        days: 30,
        seed: 42,
        start: "2026-01-01".into(),
        out: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value; {USAGE}"));
        let number = |v: String| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a whole number"))
        };
        match flag.as_str() {
            "--events" => args.events = number(value()?)?,
            "--users" => args.users = number(value()?)?,
            "--days" => args.days = number(value()?)?,
            "--seed" => args.seed = number(value()?)?,
            "--start" => args.start = value()?,
            "-o" | "--out" => args.out = PathBuf::from(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    if args.out.as_os_str().is_empty() {
        return Err(format!("give the output file with -o; {USAGE}"));
    }
    if args.users == 0 || args.days == 0 {
        return Err("--users and --days must be at least 1".into());
    }
    Ok(args)
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
fn epoch_day(date: &str) -> Result<i64, String> {
    let bad = || format!("--start `{date}` is not a YYYY-MM-DD date");
    let mut parts = date.split('-').map(str::parse::<i64>);
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    Ok(era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of milliseconds since the epoch.
fn timestamp(ms: u64, out: &mut String) {
    use std::fmt::Write as _;
    let days = (ms / 86_400_000) as i64;
    let rem = ms % 86_400_000;
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    );
}

struct Writer {
    out: BufWriter<File>,
    rng: Rng,
    line: String,
    written: u64,
    /// Records to write in all; a session cut short by it ends the file.
    limit: u64,
    /// Id of the current session.
    session: u64,
}

const OS: [&str; 5] = ["android", "ios", "linux", "macos", "windows"];
const VERSIONS: [&str; 3] = ["1.3.2", "1.4.0", "1.4.1"];

impl Writer {
    /// One record; `props` and `call` are JSON fragments (`"k":v,...` and `,"call":{...}`).
    fn record(&mut self, ms: u64, name: &str, user: u64, props: &str, call: &str) {
        use std::fmt::Write as _;
        if self.written >= self.limit {
            return;
        }
        let (a, b) = (self.rng.next(), self.rng.next());
        self.line.clear();
        self.line.push_str(r#"{"format":1,"type":"event","id":""#);
        let _ = write!(
            self.line,
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            ms >> 16 & 0xffff_ffff,
            ms & 0xffff,
            a & 0xfff,
            0x8000 | (a >> 12 & 0x3fff),
            b & 0xffff_ffff_ffff
        );
        self.line.push_str(r#"","timestamp":""#);
        timestamp(ms, &mut self.line);
        let _ = write!(
            self.line,
            r#"","name":"{name}","version":1,"properties":{{{props}}},"context":{{"app_name":"food-delivery","app_version":"{}","anonymous_id":"anon-{user:07}","user_id":"user-{user:07}","session_id":"s-{:08x}","os":"{}","arch":"{}"}}{call}}}"#,
            VERSIONS[(user % 3) as usize],
            self.session,
            OS[(user % 5) as usize],
            if user % 5 == 1 || user % 5 == 3 {
                "aarch64"
            } else {
                "x86_64"
            },
        );
        self.line.push('\n');
        if let Err(e) = self.out.write_all(self.line.as_bytes()) {
            eprintln!("error: cannot write: {e}");
            std::process::exit(2);
        }
        self.written += 1;
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let start_day = match epoch_day(&args.start) {
        Ok(d) if d >= 0 => d as u64,
        Ok(_) => {
            eprintln!("--start must be 1970-01-01 or later");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = args.out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("cannot create `{}`: {e}", dir.display());
        return ExitCode::from(2);
    }
    let file = match File::create(&args.out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot create `{}`: {e}", args.out.display());
            return ExitCode::from(2);
        }
    };
    let mut rng = Rng(args.seed);
    // Per user: a loyalty in (0.3, 0.95): the chance to still come back a week later.
    let loyalty: Vec<f32> = (0..args.users)
        .map(|_| (0.3 + 0.65 * rng.unit()) as f32)
        .collect();
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        rng: Rng(args.seed ^ 0x5eed),
        line: String::with_capacity(512),
        written: 0,
        limit: args.events,
        session: 0,
    };
    let day_ms = 86_400_000u64;
    let start_ms = start_day * day_ms;
    while w.written < args.events {
        // Time advances with the records: day of this session.
        let day = w.written * args.days / args.events.max(1);
        // Users arrived so far: evenly over the first 80% of the period (at least one).
        let arrived = ((day + 1) * args.users * 5 / (4 * args.days)).clamp(1, args.users);
        // Pick a returning user: older users come back less, by their loyalty.
        let mut user = arrived - 1;
        for _ in 0..32 {
            let u = w.rng.below(arrived);
            let arrival = u * 4 * args.days / (5 * args.users);
            let weeks = day.saturating_sub(arrival) as f64 / 7.0;
            if w.rng.chance(f64::from(loyalty[u as usize]).powf(weeks)) {
                user = u;
                break;
            }
        }
        w.session = w.rng.next() >> 32;
        let mut t = start_ms + day * day_ms + w.rng.below(day_ms);
        let step = |w: &mut Writer, t: &mut u64| *t += 5_000 + w.rng.below(115_000);
        w.record(t, "app.opened", user, "", "");
        if !w.rng.chance(0.8) {
            continue;
        }
        step(&mut w, &mut t);
        let q = 3 + w.rng.below(20);
        w.record(
            t,
            "search.performed",
            user,
            &format!(r#""query_length":{q}"#),
            "",
        );
        if !w.rng.chance(0.85) {
            continue;
        }
        step(&mut w, &mut t);
        let restaurant = w.rng.below(500);
        w.record(
            t,
            "restaurant.viewed",
            user,
            &format!(r#""restaurant_id":{restaurant}"#),
            "",
        );
        if !w.rng.chance(0.75) {
            continue;
        }
        let items = 1 + w.rng.below(3);
        for _ in 0..items {
            step(&mut w, &mut t);
            let source = ["menu", "search", "order_again"][w.rng.below(3) as usize];
            let (dish, price) = (w.rng.below(5000), 500 + w.rng.below(2500));
            w.record(
                t,
                "cart.item_added",
                user,
                &format!(
                    r#""restaurant_id":{restaurant},"dish_id":{dish},"price_cents":{price},"source":"{source}""#
                ),
                "",
            );
        }
        if !w.rng.chance(0.8) {
            continue;
        }
        step(&mut w, &mut t);
        w.record(
            t,
            "checkout.started",
            user,
            &format!(r#""items":{items}"#),
            "",
        );
        // The charge: log-normal around 120 ms; 8% errors, 0.5% panics.
        let duration = (120.0 * (0.6 * w.rng.normal()).exp() * 1000.0).round() / 1000.0;
        let roll = w.rng.unit();
        let outcome = if roll < 0.005 {
            r#""outcome":"panicked""#
        } else if roll < 0.055 {
            r#""outcome":"error","error_kind":"CardDeclined""#
        } else if roll < 0.085 {
            r#""outcome":"error","error_kind":"Timeout""#
        } else {
            r#""outcome":"ok""#
        };
        t += duration as u64;
        let amount = 1000 + w.rng.below(6000);
        w.record(
            t,
            "payment.provider_charged",
            user,
            &format!(r#""amount_cents":{amount}"#),
            &format!(
                r#","call":{{"function":"examples::sim::charge","duration_ms":{duration},{outcome}}}"#
            ),
        );
        if roll >= 0.085 && w.rng.chance(0.97) {
            step(&mut w, &mut t);
            let method = ["card", "upi", "wallet"][w.rng.below(3) as usize];
            w.record(
                t,
                "payment.completed",
                user,
                &format!(r#""method":"{method}","amount_cents":{amount}"#),
                "",
            );
        }
    }
    if let Err(e) = w.out.flush() {
        eprintln!("error: cannot write `{}`: {e}", args.out.display());
        return ExitCode::from(2);
    }
    eprintln!(
        "wrote {} records from up to {} users over {} days to {}",
        w.written,
        args.users,
        args.days,
        args.out.display()
    );
    ExitCode::SUCCESS
}
