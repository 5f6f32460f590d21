//! Hook points for consent and sampling, applied by the writer before a record is
//! built. Trivial for now (everything consented, nothing sampled out); the privacy
//! work fills them, and their drops are already counted in [`Stats`](crate::Stats).

use crate::schema::EventSchema;

/// Whether the user consented to sending this event.
#[inline]
pub(crate) fn consented(_schema: &'static EventSchema) -> bool {
    true
}

/// Whether this event is kept by sampling.
#[inline]
pub(crate) fn sampled_in(_schema: &'static EventSchema) -> bool {
    true
}
