// `emit!` inside a generic function, a method (also of a generic type) and a closure.
use telemetry_core::{emit, testing, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed {
    /// Results shown.
    results: u32,
}

fn generic<T: Into<u32>>(results: T) {
    emit!(SearchPerformed { results: results.into() });
}

struct Screen;

impl Screen {
    fn search(&self, results: u32) {
        emit!(SearchPerformed { results });
    }
}

struct Wrapper<T>(T);

impl<T: Copy + Into<u32>> Wrapper<T> {
    fn search(&self) {
        let event = SearchPerformed { results: self.0.into() };
        emit!(SearchPerformed, event);
    }
}

fn main() {
    let events = testing::capture(|| {
        generic(1u8);
        Screen.search(2);
        Wrapper(3u16).search();
        let closure = |results| emit!(SearchPerformed { results });
        closure(4);
    });
    let results: Vec<_> = events.iter().map(|e| e["results"].clone()).collect();
    assert_eq!(results, [1u32, 2, 3, 4]);
}
