//! Configuration, keys and the OpenAPI document from the command line.

use crate::{regulars, stderr, stdout};

#[test]
fn the_example_configuration_is_printed_and_is_what_config_example_toml_says() {
    let dir = tempfile::tempdir().unwrap();
    let out = regulars(dir.path(), &["config", "example"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/example.toml"
    ))
    .unwrap();
    assert_eq!(stdout(&out), committed);
}

#[test]
fn an_unknown_database_scheme_is_a_clear_startup_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = regulars(dir.path(), &["--database", "mysql://localhost/x", "stats"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unsupported database URL scheme `mysql`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file was created"
    );
}

#[test]
fn keys_are_made_with_a_role_and_listed_without_their_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = regulars(
        dir.path(),
        &[
            "--json", "keys", "create", "--role", "ingest", "--label", "pos",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("rg_"));
    let listed = stdout(&regulars(dir.path(), &["--json", "keys", "list"]));
    assert!(listed.contains("\"role\":\"ingest\""), "{listed}");
    assert!(
        !listed.contains(token.rsplit('_').next().unwrap()),
        "the secret is never shown again"
    );
    let out = regulars(dir.path(), &["keys", "create", "--role", "owner"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a role"));
}

#[test]
fn the_openapi_command_prints_the_committed_document() {
    let dir = tempfile::tempdir().unwrap();
    let printed: serde_json::Value =
        serde_json::from_str(&stdout(&regulars(dir.path(), &["openapi"]))).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(printed, committed);
}
