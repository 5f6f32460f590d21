//! The food-delivery example writes valid, private, reproducible telemetry.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use examples::{CATALOG_FILE, EVENTS_FILE, Summary, customers};
use telemetry_core::catalog::Catalog;
use telemetry_core::{HASH_BYTES, Outcome, Pii, REDACTED, Record};

/// `telemetry_core::init` is process-wide: tests that run the simulation take turns.
static PIPELINE: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run(dir: &Path, seed: u64, users: usize) -> Summary {
    let _turn = one_at_a_time();
    examples::run(dir, seed, users).expect("the simulation runs")
}

fn read(dir: &Path) -> (String, Vec<Record>, Catalog) {
    let text = std::fs::read_to_string(dir.join(EVENTS_FILE)).unwrap();
    let records = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            Record::from_json(line)
                .unwrap_or_else(|e| panic!("line {} is not a record: {e}\n{line}", i + 1))
        })
        .collect();
    let catalog = Catalog::from_json(&std::fs::read_to_string(dir.join(CATALOG_FILE)).unwrap())
        .expect("catalog.json reads back");
    (text, records, catalog)
}

#[test]
fn records_are_valid_complete_and_private() {
    const SEED: u64 = 42;
    const USERS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let summary = run(dir.path(), SEED, USERS);
    let (text, records, catalog) = read(dir.path());

    // Every line is a record, nothing was lost, and the summary counts what the file holds.
    assert!(records.len() > 1000, "only {} records", records.len());
    assert_eq!(summary.records, records.len());
    assert_eq!(summary.emitted, records.len() as u64);
    assert_eq!(summary.lost, 0);
    let ids: HashSet<_> = records.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), records.len(), "record ids are not unique");
    let mut counts = BTreeMap::new();
    for r in &records {
        *counts.entry(r.name.clone()).or_insert(0) += 1;
        assert_eq!(r.context.app_name, "food-delivery");
        assert!(r.context.anonymous_id.is_some() && r.context.session_id.is_some());
    }
    assert_eq!(summary.counts, counts);

    // The file and the tracking plan agree.
    for name in counts.keys() {
        assert!(
            catalog.event(name).is_some(),
            "`{name}` is in events.jsonl but not in catalog.json"
        );
    }
    let ours: Vec<_> = catalog
        .events
        .iter()
        .filter(|e| e.schema.rust_type.starts_with("examples::"))
        .collect();
    assert_eq!(ours.len(), 15);
    assert_eq!(summary.catalog_events, catalog.events.len());
    for event in &ours {
        assert!(
            !event.call_sites.is_empty(),
            "`{}` has no call site",
            event.schema.name
        );
        assert!(
            counts.contains_key(&*event.schema.name),
            "`{}` is never emitted by the simulation",
            event.schema.name
        );
    }
    assert_eq!(summary.pii_properties.len(), catalog.pii_property_count());
    assert_eq!(catalog.validate(), Vec::new());
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);

    // No personal data the simulation typed reaches the file, in any form. (Searching
    // the 2 MB text once per planted value takes seconds in a debug build, so the
    // e-mails and phone numbers are found by the character they all contain, and the
    // names among the distinct strings of the file.)
    let people = customers(SEED, USERS);
    assert!(people.iter().all(|c| c.email.contains('@')));
    assert!(!text.contains('@'), "an e-mail address leaked");
    assert!(
        people
            .iter()
            .flat_map(|c| &c.phone)
            .all(|p| p.starts_with('+'))
    );
    assert!(!text.contains('+'), "a phone number leaked");
    let strings: HashSet<&str> = text.split('"').collect();
    let names: HashSet<&str> = people.iter().map(|c| c.full_name.as_str()).collect();
    for planted in people
        .iter()
        .flat_map(|c| [Some(&c.email), c.phone.as_ref()])
        .flatten()
    {
        assert!(!strings.contains(planted.as_str()), "`{planted}` leaked");
    }
    for s in &strings {
        for name in &names {
            assert!(!s.contains(name), "the name `{name}` leaked in `{s}`");
        }
    }
    assert!(!text.contains("Baker Street"), "a search query leaked");

    // Each personal data property is written as its event declares.
    let mut hashed_queries = HashSet::new();
    let mut checked = HashMap::<Pii, usize>::new();
    for r in &records {
        let schema = &catalog.event(&r.name).unwrap().schema;
        for p in schema.properties.iter().filter(|p| p.pii != Pii::None) {
            let value = r.properties.get(&p.name);
            match (p.pii, value) {
                (_, None) if p.optional => continue,
                (Pii::Drop, None) => {}
                (Pii::Redact, Some(v)) => assert_eq!(*v, REDACTED, "{}.{}", r.name, p.name),
                (Pii::Hash, Some(v)) => {
                    let hash = v.as_str().expect("a hash is a string");
                    assert_eq!(hash.len(), HASH_BYTES * 2, "{}.{}: {hash}", r.name, p.name);
                    assert_eq!(hash.len(), 32);
                    assert!(
                        hash.chars()
                            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                        "{}.{}: `{hash}` is not lowercase hex",
                        r.name,
                        p.name
                    );
                    if p.name == "query" {
                        hashed_queries.insert(hash.to_owned());
                    }
                }
                (pii, value) => panic!(
                    "{}.{} (pii = {}) was written as {value:?}",
                    r.name,
                    p.name,
                    pii.as_str()
                ),
            }
            *checked.entry(p.pii).or_default() += 1;
        }
    }
    for pii in [Pii::Hash, Pii::Redact, Pii::Drop] {
        assert!(
            checked.get(&pii).copied().unwrap_or(0) > 0,
            "no `{}` property was checked",
            pii.as_str()
        );
    }
    // The key stays the same across sessions: one query text, one hash.
    assert!(
        (2..=12).contains(&hashed_queries.len()),
        "{} distinct query hashes for 12 distinct queries",
        hashed_queries.len()
    );

    // Signed-in sessions carry the account id, never an e-mail.
    let user_ids: HashSet<_> = records
        .iter()
        .filter_map(|r| r.context.user_id.as_deref())
        .collect();
    assert!(!user_ids.is_empty());
    assert!(user_ids.iter().all(|id| id.starts_with("user-")));

    // The funnel narrows at every step, and payments fail sometimes, cards about 12%.
    let funnel: Vec<usize> = summary.funnel.iter().map(|s| s.sessions).collect();
    assert_eq!(funnel.len(), 6);
    assert!(funnel[0] > 0 && funnel[5] > 0, "{funnel:?}");
    assert!(
        funnel.windows(2).all(|w| w[0] >= w[1]),
        "the funnel grows: {funnel:?}"
    );
    assert!(funnel[0] > 2 * funnel[5], "no drop-off: {funnel:?}");
    let card = summary
        .payments
        .iter()
        .find(|m| m.method == "card")
        .expect("card payments");
    let card_rate = card.failed as f64 / card.attempts as f64;
    assert!(
        (0.04..0.25).contains(&card_rate),
        "card failure rate {card_rate}"
    );
    assert_eq!(
        summary.failures_by_reason.values().sum::<usize>(),
        summary.count("payment.failed")
    );

    // The sample shown by the example: hashed e-mail, redacted phone, no name.
    let sample = Record::from_json(summary.sample_record.as_deref().unwrap()).unwrap();
    assert_eq!(sample.name, "user.signed_in");
    assert_eq!(sample.properties.get("phone").unwrap(), REDACTED);
    assert_eq!(
        sample
            .properties
            .get("email")
            .unwrap()
            .as_str()
            .unwrap()
            .len(),
        32
    );
    assert!(sample.properties.get("full_name").is_none());

    // The instrumented provider call: one record per payment attempt, each with a
    // `call` object; failures carry the failure reason as error kind, and the rare
    // wallet SDK panic is recorded and ends only its session.
    let charged: Vec<&Record> = records
        .iter()
        .filter(|r| r.name == "payment.provider_charged")
        .collect();
    assert_eq!(charged.len(), summary.count("payment.attempted"));
    assert!(
        records
            .iter()
            .all(|r| r.call.is_some() == (r.name == "payment.provider_charged"))
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in &charged {
        let call = r.call.as_ref().unwrap();
        assert_eq!(call.function, "examples::sim::charge");
        assert!(call.duration_ms >= 0.0 && call.duration_ms < 1_000.0);
        match call.outcome {
            Outcome::Error => {
                *kinds.entry(call.error_kind.clone().unwrap()).or_default() += 1;
            }
            Outcome::Ok | Outcome::Panicked => assert!(call.error_kind.is_none()),
            Outcome::Cancelled => panic!("a sync call cannot be cancelled"),
        }
    }
    assert_eq!(kinds, summary.failures_by_reason);
    let panicked = charged
        .iter()
        .filter(|r| r.call.as_ref().unwrap().outcome == Outcome::Panicked)
        .count();
    assert_eq!(panicked, summary.crashed_sessions);
    assert!(panicked > 0, "no session met the wallet SDK bug");
    assert_eq!(
        summary
            .provider_calls
            .values()
            .map(|c| c.calls)
            .sum::<usize>(),
        charged.len()
    );
}

#[test]
fn the_same_seed_tells_the_same_story() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), 7, 120);
    // Same folder again: the old events.jsonl is replaced, not appended to.
    let again = run(dir.path(), 7, 120);
    assert_eq!(first.counts, again.counts);
    assert_eq!(first.funnel, again.funnel);
    assert_eq!(first.payments, again.payments);
    assert_eq!(again.records, read(dir.path()).1.len());

    let other = run(dir.path(), 8, 120);
    assert_ne!(first.counts, other.counts, "the seed changes nothing");
}

#[test]
fn customers_are_reproducible_and_distinct() {
    let a = customers(1, 50);
    let b = customers(1, 50);
    let emails: HashSet<_> = a.iter().map(|c| &c.email).collect();
    assert_eq!(emails.len(), 50);
    assert!(
        a.iter()
            .zip(&b)
            .all(|(x, y)| x.email == y.email && x.device_id == y.device_id)
    );
}

/// The simulated clock spreads the records over the five simulated weeks: customers
/// arrive on many days, come back on later days, and some stop coming.
#[test]
fn records_span_the_simulated_weeks() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 7, 150);
    let (_, records, _) = read(dir.path());
    let day = |r: &Record| r.timestamp.unix_millis() / 86_400_000;
    let first = records.iter().map(day).min().unwrap();
    let last = records.iter().map(day).max().unwrap();
    assert_eq!(first, examples::FIRST_DAY, "starts on 2026-10-05");
    assert!(
        last < examples::FIRST_DAY + u64::from(examples::DAYS),
        "ends within the simulated days"
    );
    assert!(last - first >= 28, "spans {} days only", last - first + 1);
    // Per device: the days it was used on.
    let mut days: HashMap<&str, HashSet<u64>> = HashMap::new();
    for r in &records {
        let device = r.context.anonymous_id.as_deref().unwrap();
        days.entry(device).or_default().insert(day(r));
    }
    let returning = days.values().filter(|d| d.len() >= 3).count();
    assert!(returning * 3 > days.len(), "too few come back: {returning}");
    let first_days: HashSet<u64> = days.values().map(|d| *d.iter().min().unwrap()).collect();
    assert!(
        first_days.len() >= 20,
        "arrivals on {} days only",
        first_days.len()
    );
    // Some customers stop: their last day is more than two weeks before the end.
    let gone = days
        .values()
        .filter(|d| *d.iter().max().unwrap() + 14 < last)
        .count();
    assert!(gone > 0, "nobody churned");
}
