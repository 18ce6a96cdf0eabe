//! The tidy checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    files
}

#[test]
fn every_rust_file_starts_by_saying_what_it_owns() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("a readable file");
            !text
                .lines()
                .next()
                .is_some_and(|line| line.starts_with("//!"))
        })
        .map(|path| {
            path.strip_prefix(root())
                .unwrap_or(&path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc: {missing:?}"
    );
}

#[test]
fn no_test_is_ignored_or_expected_to_panic() {
    let banned = [concat!("#[should", "_panic"), concat!("#[ig", "nore")];
    let offenders: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("a readable file");
            banned.iter().any(|b| text.contains(b))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "tests must assert, not be skipped or expect panics: {offenders:?}"
    );
}

struct Metadata {
    /// Workspace package name → its normal (non-dev, non-build) dependencies, by name.
    normal: BTreeMap<String, BTreeSet<String>>,
    /// Every package → its normal dependencies.
    all_normal: BTreeMap<String, BTreeSet<String>>,
    /// Workspace package name → every dependency (any kind), by name.
    any: BTreeMap<String, BTreeSet<String>>,
}

/// The host's target triple, so metadata needs no packages of other platforms.
fn host_triple() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc names its host")
        .to_owned()
}

fn metadata() -> Metadata {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            &host_triple(),
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let name_of = |id: &str| -> String {
        json["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let members: BTreeSet<String> = json["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| name_of(id.as_str().unwrap()))
        .collect();
    let mut metadata = Metadata {
        normal: BTreeMap::new(),
        all_normal: BTreeMap::new(),
        any: BTreeMap::new(),
    };
    for node in json["resolve"]["nodes"].as_array().unwrap() {
        let name = name_of(node["id"].as_str().unwrap());
        let mut normal = BTreeSet::new();
        let mut any = BTreeSet::new();
        for dep in node["deps"].as_array().unwrap() {
            let dep_name = name_of(dep["pkg"].as_str().unwrap());
            any.insert(dep_name.clone());
            if dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null())
            {
                normal.insert(dep_name);
            }
        }
        metadata.all_normal.insert(name.clone(), normal.clone());
        if members.contains(&name) {
            metadata.normal.insert(name.clone(), normal);
            metadata.any.insert(name, any);
        }
    }
    metadata
}

impl Metadata {
    /// Every package in `name`'s normal dependency tree.
    fn tree(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(next) = todo.pop() {
            for dep in self.all_normal.get(&next).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    todo.push(dep.clone());
                }
            }
        }
        seen
    }
}

#[test]
fn the_dependency_rules_of_style_md_hold() {
    let metadata = metadata();
    let io = ["tokio", "sqlx", "rusqlite", "axum", "hyper", "reqwest"];
    for pure in [
        "regulars-domain",
        "regulars-formats",
        "regulars-generate",
        "regulars-api-types",
        "regulars-store",
    ] {
        if !metadata.normal.contains_key(pure) {
            continue;
        }
        let tree = metadata.tree(pure);
        for banned in io {
            assert!(
                !tree.contains(banned),
                "{pure} must do no IO but depends on {banned}"
            );
        }
    }
    for (crate_name, deps) in &metadata.any {
        let test_crate = matches!(
            crate_name.as_str(),
            "regulars-test-support" | "regulars-store-tests"
        );
        if deps.contains("sqlx") {
            assert!(
                matches!(
                    crate_name.as_str(),
                    "regulars-store-sqlite" | "regulars-store-postgres"
                ) || test_crate,
                "only the store crates may use sqlx, not {crate_name}"
            );
        }
        if deps.contains("rusqlite") {
            assert_eq!(
                crate_name, "regulars-store-sqlite",
                "only the SQLite store may use rusqlite, not {crate_name}"
            );
        }
        if deps.contains("axum") {
            assert!(
                matches!(crate_name.as_str(), "regulars-api" | "regulars-server"),
                "only regulars-api and regulars-server know HTTP serving, not {crate_name}"
            );
        }
    }
    for (crate_name, deps) in &metadata.normal {
        if deps.contains("regulars-server") {
            assert!(
                matches!(crate_name.as_str(), "regulars" | "regulars-test-support"),
                "only the binary and the test crates depend on regulars-server, not {crate_name}"
            );
        }
        if deps.contains("regulars-store-sqlite") || deps.contains("regulars-store-postgres") {
            assert!(
                matches!(
                    crate_name.as_str(),
                    "regulars-server" | "regulars-test-support"
                ),
                "only the composition root picks a backend, not {crate_name}"
            );
        }
    }
    let api_types = &metadata.normal["regulars-api-types"];
    assert!(
        !api_types.contains("regulars-domain"),
        "regulars-api-types must not depend on the domain"
    );
    let domain = &metadata.normal["regulars-domain"];
    assert!(
        domain.iter().all(|d| !d.starts_with("regulars-")),
        "regulars-domain depends on no workspace crate"
    );
}

fn migration_names(backend: &str) -> Vec<String> {
    let dir = root()
        .join("crates")
        .join(format!("regulars-store-{backend}"))
        .join("migrations");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("a migrations folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migrations() {
    assert_eq!(migration_names("sqlite"), migration_names("postgres"));
}

#[test]
fn every_crate_uses_the_workspace_lints_and_dependencies() {
    let mut manifests = vec![root().join("xtask/Cargo.toml")];
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        manifests.push(entry.expect("an entry").path().join("Cargo.toml"));
    }
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).expect("a manifest");
        let value: toml::Table = text.parse().expect("valid TOML");
        let lints = value
            .get("lints")
            .and_then(|l| l.get("workspace"))
            .and_then(toml::Value::as_bool);
        assert_eq!(
            lints,
            Some(true),
            "{} must say [lints] workspace = true",
            manifest.display()
        );
        for section in ["dependencies", "dev-dependencies"] {
            for (name, spec) in value
                .get(section)
                .and_then(toml::Value::as_table)
                .into_iter()
                .flatten()
            {
                let inherited = spec.get("workspace").and_then(toml::Value::as_bool) == Some(true);
                assert!(
                    inherited,
                    "{}: {name} must come from [workspace.dependencies]",
                    manifest.display()
                );
            }
        }
    }
}
