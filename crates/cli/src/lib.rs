//! The aann command-line interface.
use std::process::ExitCode;

/// Entry point of the `aann` binary.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
