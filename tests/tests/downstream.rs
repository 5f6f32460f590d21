//! Link-time registration, as a user gets it: builds the binaries of
//! `tests/fixtures/shop-app` with the cargo running these tests, in a debug build and in
//! a `release-lto` build (fat LTO, one codegen unit), runs them and checks the catalog
//! they print.
//!
//! - Every event of `shop-events` is listed with its call site, including the ones
//!   emitted only from a public function nothing calls, a generic function nothing
//!   instantiates and a private dead function; the event no code emits is listed with
//!   no call site and `validate()` reports it.
//! - The events of `unlinked-events`, a dependency that no item of the binary names, are
//!   listed by `shop-app` (which has `use unlinked_events as _;`) and missing from
//!   `shop-app-bare` (which does not): the one limit of link-time registration.
//!
//! The fixtures are built once per profile, in their own target directory (under this
//! workspace's target directory), so that the cargo running the tests, which holds the
//! lock of its own target directory, is not waited on. A cold run spends most of its
//! time in the fat-LTO build.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use telemetry_core::catalog::ProblemKind;
use telemetry_core::{Catalog, CatalogEvent, Record};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// Events of `shop-events` that some `emit!` sends, with the event's Rust type as written
/// after `emit!(` in `shop-events/src/lib.rs`.
const SHOP_EMITTED: [(&str, &str); 4] = [
    // Called by the binaries.
    ("cart.item_added", "CartItemAdded"),
    // In a public function that nothing calls.
    ("checkout.started", "CheckoutStarted"),
    // In a private function that nothing calls (dead code).
    ("coupon.applied", "CouponApplied"),
    // In a generic function that nothing instantiates.
    ("order.reordered", "OrderReordered"),
];

/// Defined in `shop-events`, emitted nowhere.
const SHOP_NEVER_EMITTED: &str = "wishlist.shared";

/// Events of `unlinked-events`, with their Rust types.
const UNLINKED: [(&str, &str); 2] = [
    ("review.hidden", "ReviewHidden"),
    ("review.posted", "ReviewPosted"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Debug,
    /// `[profile.release-lto]` of the workspace: fat LTO, `codegen-units = 1`.
    ReleaseLto,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Debug => "dev",
            Profile::ReleaseLto => "release-lto",
        }
    }

    /// Directory of the binaries under the target directory.
    fn dir(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::ReleaseLto => "release-lto",
        }
    }
}

/// Target directory of the fixture builds, separate from the one of the running cargo.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("downstream")
}

/// Builds both binaries of `shop-app` once per profile; the directory of the binaries,
/// or why the build failed.
fn build(profile: Profile) -> &'static Result<PathBuf, String> {
    static DEBUG: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static RELEASE_LTO: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match profile {
        Profile::Debug => &DEBUG,
        Profile::ReleaseLto => &RELEASE_LTO,
    };
    cell.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let manifest = Path::new(FIXTURES).join("shop-app/Cargo.toml");
        let mut command = Command::new(&cargo);
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--bins", "--profile", profile.name(), "--target-dir"])
            .arg(target_dir())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR");
        let started = Instant::now();
        let output = command
            .output()
            .map_err(|e| format!("could not run {command:?}: {e}"))?;
        let elapsed = started.elapsed();
        // Shown by the test harness for failing tests, and with `--nocapture`.
        eprintln!(
            "built shop-app ({}) in {:.1}s",
            profile.name(),
            elapsed.as_secs_f64()
        );
        if !output.status.success() {
            return Err(format!(
                "{command:?} failed ({}) after {:.1}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
                output.status,
                elapsed.as_secs_f64(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            ));
        }
        Ok(target_dir().join(profile.dir()))
    })
}

/// One run of a fixture binary that exited successfully.
struct Run {
    what: String,
    stdout: String,
    stderr: String,
}

impl Run {
    fn new(profile: Profile, bin: &str, args: &[&str]) -> Run {
        let dir = match build(profile) {
            Ok(dir) => dir,
            Err(why) => panic!("building the fixtures failed:\n{why}"),
        };
        let path = dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
        let what = format!(
            "`{} {}` ({} build)",
            path.display(),
            args.join(" "),
            profile.name()
        );
        let output = Command::new(&path)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("could not run {what}: {e}"));
        let run = Run {
            what,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        if !output.status.success() {
            run.fail(&format!("exited with {}", output.status));
        }
        run
    }

    /// Panics with the message, the command and its output.
    #[track_caller]
    fn fail(&self, message: &str) -> ! {
        panic!(
            "{message}\nbinary: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.stdout, self.stderr
        )
    }

    fn catalog(&self) -> Catalog {
        Catalog::from_json(&self.stdout)
            .unwrap_or_else(|e| self.fail(&format!("the output is not a catalog: {e}")))
    }
}

/// Line and column of the one `emit!(<ty>` in a fixture source file.
fn emit_site(file: &str, ty: &str) -> (u32, u32) {
    let path = Path::new(FIXTURES).join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let needle = format!("emit!({ty}");
    let sites: Vec<(u32, u32)> = source
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let column = line.find(&needle)?;
            let line_no = u32::try_from(i + 1).expect("a short file");
            let column = u32::try_from(column + 1).expect("a short line");
            Some((line_no, column))
        })
        .collect();
    match sites[..] {
        [site] => site,
        _ => panic!(
            "expected exactly one `{needle}` in {}, found {sites:?}",
            path.display()
        ),
    }
}

fn names(catalog: &Catalog) -> Vec<&str> {
    catalog.events.iter().map(|e| &*e.schema.name).collect()
}

/// Checks that `name` is listed with exactly one call site: the `emit!(<ty>` line of
/// `file` (relative to `tests/fixtures`).
fn check_call_site(run: &Run, event: Option<&CatalogEvent>, name: &str, ty: &str, file: &str) {
    let Some(event) = event else {
        run.fail(&format!("`{name}` is missing from the catalog"))
    };
    let (line, column) = emit_site(file, ty);
    let [site] = &event.call_sites[..] else {
        run.fail(&format!(
            "`{name}`: expected one call site ({file}:{line}:{column}), found {:?}",
            event.call_sites
        ))
    };
    if !site.file.ends_with(file) || site.line != line || site.column != column {
        run.fail(&format!(
            "`{name}`: expected its call site at …{file}:{line}:{column}, found {}:{}:{}",
            site.file, site.line, site.column
        ));
    }
}

/// What both binaries must list: every event of `shop-events` and of the binary itself.
fn check_linked_events(run: &Run, catalog: &Catalog) {
    for (name, ty) in SHOP_EMITTED {
        check_call_site(run, catalog.event(name), name, ty, "shop-events/src/lib.rs");
        let module = &catalog.event(name).expect("checked").call_sites[0].module_path;
        if module != "shop_events" {
            run.fail(&format!(
                "`{name}`: expected module path `shop_events`, found `{module}`"
            ));
        }
    }
    check_call_site(
        run,
        catalog.event("app.started"),
        "app.started",
        "AppStarted",
        "shop-app/src/lib.rs",
    );

    let Some(never) = catalog.event(SHOP_NEVER_EMITTED) else {
        run.fail(&format!(
            "`{SHOP_NEVER_EMITTED}` is missing from the catalog"
        ))
    };
    if !never.call_sites.is_empty() {
        run.fail(&format!(
            "`{SHOP_NEVER_EMITTED}` is emitted nowhere, yet has call sites {:?}",
            never.call_sites
        ));
    }
    if never.schema.rust_type != "shop_events::WishlistShared" {
        run.fail(&format!(
            "`{SHOP_NEVER_EMITTED}`: unexpected Rust type `{}`",
            never.schema.rust_type
        ));
    }
    let problems = catalog.validate();
    let never_emitted: BTreeSet<&str> = problems
        .iter()
        .filter(|p| p.kind == ProblemKind::NeverEmitted)
        .map(|p| p.event.as_str())
        .collect();
    if never_emitted != BTreeSet::from([SHOP_NEVER_EMITTED]) {
        run.fail(&format!(
            "validate() should report exactly `{SHOP_NEVER_EMITTED}` as never emitted; it reports {problems:#?}"
        ));
    }
}

/// `shop-app` names nothing from `unlinked-events` but has `use unlinked_events as _;`:
/// every event is there.
fn check_with_remedy(profile: Profile) {
    let run = Run::new(profile, "shop-app", &["catalog"]);
    let catalog = run.catalog();
    let expected = [
        "app.started",
        "cart.item_added",
        "checkout.started",
        "coupon.applied",
        "order.reordered",
        "review.hidden",
        "review.posted",
        "wishlist.shared",
    ];
    for (name, _) in UNLINKED {
        if catalog.event(name).is_none() {
            run.fail(&format!(
                "`{name}` comes from `unlinked-events`, which `shop-app` links only through \
                 `use unlinked_events as _;` in tests/fixtures/shop-app/src/main.rs: that \
                 remedy no longer brings the crate's events into the catalog"
            ));
        }
    }
    if names(&catalog) != expected {
        run.fail(&format!(
            "expected the events {expected:?}, found {:?}",
            names(&catalog)
        ));
    }
    check_linked_events(&run, &catalog);
    for (name, ty) in UNLINKED {
        check_call_site(
            &run,
            catalog.event(name),
            name,
            ty,
            "unlinked-events/src/lib.rs",
        );
    }
}

/// `shop-app-bare` is `shop-app` without `use unlinked_events as _;`: rustc does not
/// link a dependency that no path of the crate names, so its registrations are absent.
fn check_without_remedy(profile: Profile) {
    let run = Run::new(profile, "shop-app-bare", &["catalog"]);
    let catalog = run.catalog();
    let expected = [
        "app.started",
        "cart.item_added",
        "checkout.started",
        "coupon.applied",
        "order.reordered",
        "wishlist.shared",
    ];
    for (name, _) in UNLINKED {
        if catalog.event(name).is_some() {
            run.fail(&format!(
                "`{name}` comes from `unlinked-events`, which this binary depends on but never \
                 references: the documented limit says it is absent, yet it is listed. If this \
                 toolchain now links unreferenced dependencies, update the README and \
                 `telemetry_core::catalog` docs."
            ));
        }
    }
    if names(&catalog) != expected {
        run.fail(&format!(
            "expected the events {expected:?}, found {:?}",
            names(&catalog)
        ));
    }
    check_linked_events(&run, &catalog);
}

#[test]
fn debug_catalog_lists_events_of_referenced_crates_and_dead_code() {
    check_with_remedy(Profile::Debug);
}

#[test]
fn debug_catalog_misses_a_crate_nothing_references() {
    check_without_remedy(Profile::Debug);
}

#[test]
fn fat_lto_catalog_lists_events_of_referenced_crates_and_dead_code() {
    check_with_remedy(Profile::ReleaseLto);
}

#[test]
fn fat_lto_catalog_misses_a_crate_nothing_references() {
    check_without_remedy(Profile::ReleaseLto);
}

/// The pipeline works in a fat-LTO binary too: the emitted events come out as records.
#[test]
fn fat_lto_binary_emits_records() {
    let run = Run::new(Profile::ReleaseLto, "shop-app", &[]);
    let records: Vec<Record> = run
        .stdout
        .lines()
        .map(|line| {
            Record::from_json(line)
                .unwrap_or_else(|e| run.fail(&format!("not a record: {e}: {line}")))
        })
        .collect();
    let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    // The events, then the totals written at shutdown.
    let expected = [
        "app.started",
        "cart.item_added",
        telemetry_core::STATS_RECORD_NAME,
    ];
    if names != expected {
        run.fail(&format!(
            "expected records of app.started, cart.item_added and the final stats, found {names:?}"
        ));
    }
    let properties = serde_json::to_value(&records[1].properties).expect("JSON values");
    if properties != serde_json::json!({"dish_id": 7, "quantity": 2}) {
        run.fail(&format!("unexpected properties {properties}"));
    }
}

/// `catalog::dump_if_requested()` first in `main`: with `TELEMETRY_DUMP_CATALOG` set,
/// the program writes the same catalog as `catalog().to_json()` and exits before doing
/// anything else.
#[test]
fn dump_if_requested_writes_the_catalog_and_exits() {
    let expected = Run::new(Profile::Debug, "shop-app", &["catalog"]).stdout;
    let dir = match build(Profile::Debug) {
        Ok(dir) => dir,
        Err(why) => panic!("building the fixtures failed:\n{why}"),
    };
    let out = std::env::temp_dir().join(format!("telemetry-dump-{}/plan.json", std::process::id()));
    let output = Command::new(dir.join(format!("shop-app{}", std::env::consts::EXE_SUFFIX)))
        .env("TELEMETRY_DUMP_CATALOG", &out)
        .output()
        .expect("the fixture runs");
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.is_empty(), "nothing else ran: {output:?}");
    let written = std::fs::read_to_string(&out).expect("the catalog file was written");
    assert_eq!(written, expected);
    let _ = std::fs::remove_dir_all(out.parent().expect("a parent folder"));

    let bad = Command::new(dir.join(format!("shop-app{}", std::env::consts::EXE_SUFFIX)))
        .env("TELEMETRY_DUMP_CATALOG", "/proc/no-such-dir/plan.json")
        .output()
        .expect("the fixture runs");
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("/proc/no-such-dir"), "{stderr}");
}
