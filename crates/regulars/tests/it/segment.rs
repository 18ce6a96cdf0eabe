//! `regulars segment`: every member's segments from the stored facts, as of a day.

use crate::{regulars, stderr, stdout, write};

#[test]
fn segment_counts_cover_every_member_and_export_writes_a_row_each() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "members.csv", "member_id\nM1\nM2\nM3\nM4\n");
    write(
        dir.path(),
        "orders.csv",
        "order_id,member_id,placed_at,amount\n\
         O1,M1,2026-11-01,100\nO2,M1,2026-11-10,100\nO3,M1,2026-11-20,100\n\
         O4,M2,2026-10-01,250.50\nO5,M3,2024-01-01,80\n",
    );
    assert_eq!(
        regulars(dir.path(), &["import", "members", "members.csv"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        regulars(dir.path(), &["import", "orders", "orders.csv"])
            .status
            .code(),
        Some(0)
    );

    for model in ["rfm", "rfm8", "nesl", "rfim", "lifecycle"] {
        let out = regulars(
            dir.path(),
            &[
                "--json",
                "segment",
                "counts",
                "--model",
                model,
                "--as-of",
                "2026-11-22",
            ],
        );
        assert!(out.status.success(), "{model}: {}", stderr(&out));
        let counts: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let total: u64 = counts["counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total, 4, "{model}: every member has exactly one segment");
        assert_eq!(counts["as_of"], "2026-11-22");
    }
    let nesl: serde_json::Value = serde_json::from_str(&stdout(&regulars(
        dir.path(),
        &[
            "--json",
            "segment",
            "counts",
            "--model",
            "nesl",
            "--as-of",
            "2026-11-22",
        ],
    )))
    .unwrap();
    assert_eq!(nesl["counts"]["L"], 1, "M3 last bought in 2024");
    assert_eq!(nesl["counts"]["prospect"], 1, "M4 never bought");

    let out = regulars(
        dir.path(),
        &[
            "segment",
            "export",
            "--as-of",
            "2026-11-22",
            "--out",
            "segments.csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = std::fs::read_to_string(dir.path().join("segments.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "member_id,recency_days,frequency,monetary,cycle_days,r_score,f_score,m_score,rfm_cell,rfm_segment,rfm8_class,nesl,rfim,lifecycle"
    );
    assert_eq!(lines.len(), 5);
    let m2 = lines.iter().find(|l| l.starts_with("M2,")).unwrap();
    assert!(m2.starts_with("M2,52,1,250.50,"), "{m2}");
    let m4 = lines.iter().find(|l| l.starts_with("M4,")).unwrap();
    assert_eq!(*m4, "M4,,0,0.00,,,,,,prospect,,prospect,prospect,prospect");

    let out = regulars(
        dir.path(),
        &["--json", "segment", "show", "M3", "--as-of", "2026-11-22"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["models"]["nesl"]["segment"], "L");
    assert_eq!(shown["models"]["lifecycle"]["segment"], "churn");
    let why = shown["models"]["nesl"]["explanation"].as_str().unwrap();
    assert!(
        why.starts_with("L: 1056 days since the last purchase, more than 365"),
        "{why}"
    );
    let out = regulars(dir.path(), &["segment", "show", "M404"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("member M404 not found"));

    // As of a day before any order, everyone is a prospect.
    let early: serde_json::Value = serde_json::from_str(&stdout(&regulars(
        dir.path(),
        &[
            "--json",
            "segment",
            "counts",
            "--model",
            "rfm",
            "--as-of",
            "2023-01-01",
        ],
    )))
    .unwrap();
    assert_eq!(early["counts"]["prospect"], 4);
}
