//! GPT: headers, entries, attributes, prioritize, next, the operations and the table.

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
// The host library reads and writes these fields; the boot API does not yet.
#[allow(dead_code)]
#[path = "../../src/gpt/table.rs"]
pub mod table;

pub use error::{Error, Fault, Result, Which};
pub use guid::Guid;
