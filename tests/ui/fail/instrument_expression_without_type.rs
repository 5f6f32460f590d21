// An expression field needs its type: the schema is static.
use telemetry_core::instrument_event;

struct Order {
    items: Vec<u64>,
}

/// Checks out.
#[instrument_event(name = "checkout.started", fields(items = order.items.len()))]
fn checkout(order: &Order) {
    let _ = order;
}

fn main() {
    checkout(&Order { items: vec![] });
}
