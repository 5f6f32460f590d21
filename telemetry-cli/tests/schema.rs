//! `telemetry catalog schema`: the generated JSON Schemas, checked with a real draft
//! 2020-12 validator (boon) against valid and invalid records.

mod common;
use common::*;

fn compile(dir: &std::path::Path, event: &str) -> (boon::Schemas, boon::SchemaIndex) {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    let path = dir.join(format!("{event}.schema.json"));
    let index = compiler
        .compile(path.to_str().unwrap(), &mut schemas)
        .unwrap_or_else(|e| panic!("{event}: not a valid JSON Schema: {e:#}"));
    (schemas, index)
}

#[test]
fn schemas_accept_valid_records_and_reject_invalid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = telemetry(&[
        "catalog",
        "schema",
        &fixture("plan.json"),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 schemas written"),
        "{}",
        text(&out.stdout)
    );
    let schema = std::fs::read_to_string(dir.path().join("cart.item_added.schema.json")).unwrap();
    golden("cart.item_added.schema.json", &schema);
    assert!(schema.contains("\"$schema\": \"https://json-schema.org/draft/2020-12/schema\""));

    let (schemas, cart) = compile(dir.path(), "cart.item_added");
    let (_, _) = compile(dir.path(), "app.opened");
    // The fixture's lines: 1 is a valid `cart.item_added`; 4 to 9 break it one way each
    // (unknown property, missing property, wrong type, value not allowed, old version,
    // personal data not hashed).
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(fixture_path("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
        .collect();
    if let Err(e) = schemas.validate(&lines[0], cart) {
        panic!("line 1 should be valid: {e}");
    }
    for n in 4..=9 {
        assert!(
            schemas.validate(&lines[n - 1], cart).is_err(),
            "line {n} should be rejected"
        );
    }
    // Hand-made: a non-finite number is `null`; a bad uuid or timestamp is rejected.
    let mut record = lines[0].clone();
    record["properties"]["rating"] = serde_json::Value::Null;
    assert!(schemas.validate(&record, cart).is_ok());
    record["id"] = "not-a-uuid".into();
    assert!(schemas.validate(&record, cart).is_err());
    let mut record = lines[0].clone();
    record["properties"]["dish_id"] = (-1).into();
    assert!(
        schemas.validate(&record, cart).is_err(),
        "u64 has no negative values"
    );
}
