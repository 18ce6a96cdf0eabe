//! The `regulars` binary from the outside: the commands a newcomer types, their output, their
//! exit statuses and the files they write. Each test works in its own temp folder.

mod audience;
mod coupons;
mod import;
mod misc;
mod points;
mod referrals;
mod segment;
mod tiers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary in `dir` with `args`, with a clean `REGULARS_` environment.
pub fn regulars(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regulars"));
    command.current_dir(dir).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REGULARS_") {
            command.env_remove(name);
        }
    }
    command.output().expect("the binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
