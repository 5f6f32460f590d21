//! The naming rule and the funnel window syntax are written once and shared by the
//! runtime and the macros as two identical files (a proc-macro crate cannot export
//! functions to its users' crates).

#[test]
fn naming_rule_copies_are_identical() {
    let core = include_str!("../../telemetry-core/src/naming.rs");
    let macros = include_str!("../../telemetry-macros/src/naming.rs");
    assert!(
        core == macros,
        "telemetry-core/src/naming.rs and telemetry-macros/src/naming.rs differ; copy one over the other"
    );
}
