//! The forms a run is printed in: text (the timeline and the checks, for people), JSON Lines
//! (for programs, byte-identical from run to run) and a Mermaid sequence diagram (for docs and
//! learners).

mod jsonl;
mod mermaid;
mod text;

pub use jsonl::jsonl;
pub use mermaid::mermaid;
pub use text::text;
