//! `regulars tiers …`: a ladder from the configuration file, members placed on it when their
//! orders are imported, shown with their progress and history, evaluated again without new
//! changes, and found near their next tier.

use crate::{regulars, stderr, stdout, write};

#[test]
fn imported_orders_place_members_on_the_configured_ladder() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "regulars.toml",
        "[tiers]\nwindow_days = 3660\nlevels = [\n\
         { name = \"member\", title = \"Member\", entry = 0 },\n\
         { name = \"silver\", title = \"Silver\", entry = 500, multiplier = 1.25 },\n\
         { name = \"gold\", title = \"Gold\", entry = 2000, fast_upgrade = 1500 },\n]\n",
    );
    let orders = write(
        dir.path(),
        "orders.csv",
        "order_id,member_id,placed_at,amount\n\
         O1,M1,2026-10-01,300\nO2,M1,2026-10-05,250\nO3,M2,2026-10-02,1600\nO4,M3,2026-10-03,450\n",
    );
    let run = |args: &[&str]| regulars(dir.path(), args);
    let out = run(&["import", "orders", orders.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let list = run(&["tiers", "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let lines: Vec<String> = stdout(&list)
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("member Member") && lines[0].ends_with("1 members"));
    assert!(lines[1].contains("×1.25") && lines[1].ends_with("1 members"));
    assert!(lines[2].ends_with("1 members"));

    let show = run(&["tiers", "show", "M1", "--json"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let view: serde_json::Value = serde_json::from_str(&stdout(&show)).unwrap();
    assert_eq!(view["tier"]["name"], "silver");
    assert_eq!(view["since"], "2026-10-05");
    assert_eq!(view["value"], 55_000);
    assert_eq!(view["to_next"], 145_000);
    assert_eq!(view["changes"][0]["kind"], "upgrade");
    assert_eq!(view["changes"][0]["order_id"], "O2");

    let again = run(&["tiers", "evaluate", "--json"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let done: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(
        (done["members"].as_u64(), done["changes"].as_u64()),
        (Some(3), Some(0))
    );

    let near = run(&["tiers", "near", "--within", "10000"]);
    assert!(near.status.success(), "{}", stderr(&near));
    assert_eq!(stdout(&near), "M3\tmember → silver\t5000 more\n");

    let log = run(&["tiers", "log", "--kind", "fast_upgrade"]);
    assert!(
        stdout(&log).contains("M2  fast_upgrade"),
        "{}",
        stdout(&log)
    );
    let bad = run(&["tiers", "log", "--kind", "promotion"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("`promotion` is not a tier change"));
}
