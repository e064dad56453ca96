//! The mark on errors a caller's callback reported, so that they map to
//! `ROOTSEAL_STATUS_CALLBACK_FAILED` and never look like a device that is merely empty or
//! malformed.

use std::io;

/// Marks errors that came from a callback, so they map to `CALLBACK_FAILED`.
#[derive(Debug)]
struct CallbackError(String);

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for CallbackError {}

pub(crate) fn callback_error(message: String) -> io::Error {
    io::Error::other(CallbackError(message))
}

pub(crate) fn is_callback_error(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<CallbackError>())
}
