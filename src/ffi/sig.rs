//! C entry points for payload signatures.
