//! Why booking refused a queue pass: a leaf type, so the service's error can name it.

use ticket_code::pass::PassRefusal;

/// Why booking refused a pass (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Invalid(PassRefusal),
    Used,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Missing => "queue_pass_required",
            Refusal::Invalid(_) => "queue_pass_invalid",
            Refusal::Used => "queue_pass_used",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => {
                "This on-sale has a waiting room: join its queue and book with the pass it gives you."
            }
            Refusal::Invalid(PassRefusal::Expired) => {
                "Your queue pass has expired; ask the queue for a fresh one."
            }
            Refusal::Invalid(_) => "This queue pass is not valid for you and this event.",
            Refusal::Used => "This queue pass has already been used for a booking.",
        }
    }
}
