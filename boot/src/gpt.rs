//! GPT: headers, entries, attributes, prioritize, next, the two-copy reader and the
//! crash-safe writer, over the caller's callbacks and memory.

#[path = "../../src/gpt/attrs.rs"]
pub mod attrs;
#[path = "../../src/gpt/entries.rs"]
pub mod entries;
#[path = "../../src/gpt/error.rs"]
pub mod error;
#[path = "../../src/gpt/guid.rs"]
pub mod guid;
#[path = "../../src/gpt/header.rs"]
pub mod header;
#[path = "../../src/gpt/next.rs"]
pub mod next;
#[path = "../../src/gpt/ops.rs"]
pub mod ops;
#[path = "../../src/gpt/pmbr.rs"]
pub mod pmbr;
#[path = "../../src/gpt/prioritize.rs"]
pub mod prioritize;
#[path = "../../src/gpt/read.rs"]
pub mod read;
#[path = "../../src/gpt/reasons.rs"]
pub mod reasons;
#[path = "../../src/gpt/table.rs"]
pub mod table;
#[path = "../../src/gpt/write.rs"]
pub mod write;

pub use error::{Error, Fault, Result, Which};
pub use guid::Guid;
