// `emit!()` with nothing to emit.
use telemetry_core::emit;

fn main() {
    emit!();
}
