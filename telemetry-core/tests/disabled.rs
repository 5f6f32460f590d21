//! With telemetry off, `emit!` does not even build the event. (A file of its own: a
//! `testing::capture` on a parallel test thread would switch emitting on.)

use telemetry_core::{TelemetryEvent, emit};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed", owner = "discovery")]
struct SearchPerformed {
    /// Normalized query.
    query: String,
}

#[test]
fn disabled_emit_does_not_evaluate_the_event() {
    assert!(!telemetry_core::enabled());
    let mut built = 0;
    for _ in 0..3 {
        emit!(SearchPerformed {
            query: {
                built += 1;
                "pizza".to_uppercase()
            }
        });
    }
    assert_eq!(built, 0);

    let captured = telemetry_core::testing::capture(|| {
        emit!(SearchPerformed {
            query: {
                built += 1;
                "pizza".to_uppercase()
            }
        });
    });
    assert_eq!((built, captured.len()), (1, 1));
    assert_eq!(captured[0]["query"], "PIZZA");
}
