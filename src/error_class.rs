//! What kind of failure an error is, as every error type of the library says of itself:
//! the input was refused, a check ran and failed, or the system failed. The command
//! line turns it into its exit status; a C caller gets the finer-grained status codes.

/// The class of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The input cannot be used: malformed, out of range, contradictory, or not what the
    /// operation needs (a signature file that is not a signature, a disk with no GPT).
    BadInput,
    /// The input was well-formed and checked, and the check failed or the operation
    /// could not be done on it: a signature that does not verify, no bootable slot, a
    /// table that needs repair first, a write that failed part way.
    CheckFailed,
    /// Reading or writing failed (an I/O error, a failing callback, a file that
    /// changed while it was read), so no verdict exists.
    Io,
}

impl ErrorClass {
    /// The `rootseal` command's exit status: 1 for a failed check, 2 otherwise.
    pub const fn exit_code(self) -> u8 {
        match self {
            ErrorClass::CheckFailed => 1,
            ErrorClass::BadInput | ErrorClass::Io => 2,
        }
    }

    /// A stable name for machine-readable output: `bad_input`, `check_failed` or `io`
    /// (the `"kind"` of the command's JSON errors).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorClass::BadInput => "bad_input",
            ErrorClass::CheckFailed => "check_failed",
            ErrorClass::Io => "io",
        }
    }
}
