//! `regulars generate` and `regulars import`: realistic files land, bad rows go to the errors
//! file with file, line, field and reason, and running an import again changes nothing.

use crate::{regulars, stderr, stdout, write};

/// Imports every file `generate` wrote into `brand/`, in dependency order, each expected to exit
/// 0; returns each kind's JSON summary.
fn import_every_kind(dir: &std::path::Path) -> Vec<(&'static str, serde_json::Value)> {
    [
        "stores",
        "members",
        "orders",
        "order-lines",
        "returns",
        "interactions",
        "events",
    ]
    .into_iter()
    .map(|kind| {
        let file = format!("brand/{kind}.csv");
        let out = regulars(dir, &["--json", "import", kind, &file]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
        (kind, serde_json::from_str(&stdout(&out)).unwrap())
    })
    .collect()
}

#[test]
fn a_generated_brand_imports_cleanly_and_a_second_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = regulars(
        dir.path(),
        &[
            "generate",
            "--members",
            "300",
            "--seed",
            "3",
            "--out",
            "brand",
            "--end",
            "2026-11-22",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for (kind, summary) in import_every_kind(dir.path()) {
        assert_eq!(summary["rejected"], 0, "{kind}");
        assert_eq!(summary["accepted"], summary["rows"], "{kind}");
    }
    let before = stdout(&regulars(dir.path(), &["--json", "stats"]));
    for (kind, summary) in import_every_kind(dir.path()) {
        assert_eq!(
            summary["accepted"], 0,
            "{kind}: a second import changes nothing"
        );
        assert_eq!(summary["duplicates"], summary["rows"], "{kind}");
    }
    assert_eq!(stdout(&regulars(dir.path(), &["--json", "stats"])), before);
    let stats: serde_json::Value = serde_json::from_str(&before).unwrap();
    assert_eq!(stats["members"], 300);
    assert_eq!(stats["stores"], 13);
}

#[test]
fn generating_twice_with_one_seed_writes_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    for out in ["a", "b"] {
        let run = regulars(
            dir.path(),
            &[
                "generate",
                "--members",
                "50",
                "--seed",
                "9",
                "--out",
                out,
                "--end",
                "2026-01-31",
            ],
        );
        assert!(run.status.success());
    }
    for kind in ["members", "orders", "order-lines", "events"] {
        let a = std::fs::read(dir.path().join(format!("a/{kind}.csv"))).unwrap();
        let b = std::fs::read(dir.path().join(format!("b/{kind}.csv"))).unwrap();
        assert_eq!(a, b, "{kind}");
    }
}

#[test]
fn bad_rows_go_to_the_errors_file_and_the_good_rows_land() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "orders.csv",
        "order_id,member_id,placed_at,amount\nO1,M1,2026-03-01,100\nO2,M1,yesterday,100\nO3,M2,2026-03-02,12x\nO4,M2,2026-03-02,50.5\n",
    );
    let out = regulars(dir.path(), &["import", "orders", "orders.csv"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "some rows were rejected: {}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("4 rows"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("2 accepted (2 new, 0 updated), 0 duplicates, 2 rejected"),
        "{}",
        stdout(&out)
    );
    let errors = std::fs::read_to_string(dir.path().join("orders.csv.errors.csv")).unwrap();
    let mut lines = errors.lines();
    assert_eq!(lines.next(), Some("file,line,field,reason"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].starts_with("orders.csv,3,placed_at,"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("orders.csv,4,amount,`12x` is not a number"),
        "{}",
        rows[1]
    );
    let stats: serde_json::Value =
        serde_json::from_str(&stdout(&regulars(dir.path(), &["--json", "stats"]))).unwrap();
    assert_eq!(stats["orders"], 2);
}

#[test]
fn strict_imports_refuse_orders_of_unknown_members() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "members.csv", "member_id,name\nM1,Amy\n");
    write(
        dir.path(),
        "orders.csv",
        "order_id,member_id,placed_at,amount\nO1,M1,2026-03-01,100\nO2,M9,2026-03-01,100\n",
    );
    assert_eq!(
        regulars(dir.path(), &["import", "members", "members.csv"])
            .status
            .code(),
        Some(0)
    );
    let out = regulars(
        dir.path(),
        &[
            "import",
            "orders",
            "orders.csv",
            "--strict",
            "--errors",
            "refused.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let errors = std::fs::read_to_string(dir.path().join("refused.csv")).unwrap();
    assert!(
        errors.contains("orders.csv,3,member_id,member M9 is not known (strict ingest)"),
        "{errors}"
    );
}

#[test]
fn a_file_without_its_required_columns_is_refused_before_any_row() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "orders.csv", "order_id,amount\nO1,100\n");
    let out = regulars(dir.path(), &["import", "orders", "orders.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the header lacks the required column(s): member_id, placed_at"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn shopify_and_jsonl_files_import_too() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "customers.csv",
        "Customer ID,First Name,Last Name,Email,Accepts Email Marketing\n'1,Amy,Lin,amy@example.com,yes\n",
    );
    write(
        dir.path(),
        "shopify-orders.csv",
        "Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n\
         #1001,amy@example.com,paid,TWD,450.00,2026-03-01 09:30:00 +0800,1,House blend,450.00,BN-HOU\n",
    );
    write(
        dir.path(),
        "events.jsonl",
        "{\"member_id\":\"amy@example.com\",\"at\":\"2026-03-02\",\"kind\":\"favorite\",\"sku\":\"BN-ETH\"}\n",
    );
    assert_eq!(
        regulars(
            dir.path(),
            &["import", "members", "customers.csv", "--format", "shopify"]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        regulars(
            dir.path(),
            &[
                "import",
                "orders",
                "shopify-orders.csv",
                "--format",
                "shopify"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        regulars(
            dir.path(),
            &["import", "events", "events.jsonl", "--format", "jsonl"]
        )
        .status
        .code(),
        Some(0)
    );
    let stats: serde_json::Value =
        serde_json::from_str(&stdout(&regulars(dir.path(), &["--json", "stats"]))).unwrap();
    assert_eq!(
        (
            stats["members"].as_u64(),
            stats["orders"].as_u64(),
            stats["order_lines"].as_u64(),
            stats["events"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1))
    );
}

#[test]
fn duplicate_ids_within_one_file_are_stored_once_and_a_differing_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "orders.csv",
        "order_id,member_id,placed_at,amount,status\n\
         O1,M1,2026-03-01 09:00,100,paid\n\
         O1,M1,2026-03-01 09:00,100,paid\n\
         O1,M1,2026-03-01 09:00,999,paid\n\
         O1,M1,2026-03-01 09:00,100,completed\n",
    );
    let out = regulars(dir.path(), &["--json", "import", "orders", "orders.csv"]);
    assert_eq!(out.status.code(), Some(3));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (
            &summary["created"],
            &summary["duplicates"],
            &summary["rejected"],
            &summary["updated"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1)
        )
    );
    let errors = std::fs::read_to_string(dir.path().join("orders.csv.errors.csv")).unwrap();
    assert!(
        errors.contains("orders.csv,4,amount,order O1 is already stored with a different amount"),
        "{errors}"
    );
}
