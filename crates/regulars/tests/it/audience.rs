//! `regulars audience`: rules checked with their errors, and previews over the stored facts that
//! agree with the segment counts.

use crate::{regulars, stderr, stdout, write};

fn import(dir: &std::path::Path, kind: &str, file: &str) {
    let out = regulars(dir, &["import", kind, file]);
    assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
}

fn preview(dir: &std::path::Path, rule: &str) -> serde_json::Value {
    let out = regulars(
        dir,
        &[
            "--json",
            "audience",
            "preview",
            rule,
            "--as-of",
            "2026-11-22",
        ],
    );
    assert!(out.status.success(), "{rule}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn check_prints_the_canonical_text_and_json_or_where_the_rule_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = regulars(
        dir.path(),
        &[
            "audience",
            "check",
            "nesl in (S1,S2) AND bought(within=30d, category=\"pastry\")",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("nesl in (S1, S2) and bought(within = 30d, category = \"pastry\")\n"),
        "{text}"
    );
    assert!(text.contains("\"category\": \"pastry\""), "{text}");

    let out = regulars(dir.path(), &["audience", "check", "nesl in (S1, S2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 1, column 16: expected `,` or `)`, found the end of the rule"),
        "{}",
        stderr(&out)
    );

    let rule = write(
        dir.path(),
        "rule.json",
        r#"{"include": {"attribute": {"name": "age", "op": ">", "value": "old"}}}"#,
    );
    let argument = format!("@{}", rule.display());
    let out = regulars(dir.path(), &["audience", "check", &argument]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("include.attribute.value: `age` takes a number"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn preview_counts_members_over_profiles_orders_lines_and_events() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "members.csv",
        "member_id,gender,birthday,region,consent_line\n\
         M1,female,1990-11-05,Taipei,granted\n\
         M2,male,2001-02-01,Taichung,denied\n\
         M3,female,,Taipei,\n\
         M4,,,,\n",
    );
    write(
        dir.path(),
        "orders.csv",
        "order_id,member_id,placed_at,amount\n\
         O1,M1,2026-11-01,240\nO2,M1,2026-11-10,120\n\
         O3,M2,2026-10-01,450\nO4,M3,2024-01-01,80\n",
    );
    write(
        dir.path(),
        "lines.csv",
        "order_id,sku,category,quantity,unit_price\n\
         O1,CRO,pastry,2,120\nO2,LAT,drinks,1,120\nO3,BEAN,beans,1,450\nO4,CRO,pastry,1,80\n",
    );
    write(
        dir.path(),
        "events.csv",
        "member_id,at,kind,sku\nM2,2026-11-20,cart_add,BEAN\nM1,2026-11-09,cart_add,LAT\n",
    );
    import(dir.path(), "members", "members.csv");
    import(dir.path(), "orders", "orders.csv");
    import(dir.path(), "order-lines", "lines.csv");
    import(dir.path(), "events", "events.csv");

    let everyone = preview(dir.path(), "orders >= 0");
    assert_eq!(
        (everyone["count"].as_u64(), everyone["members"].as_u64()),
        (Some(4), Some(4))
    );

    let pastry_lately = preview(dir.path(), r#"bought(category = "pastry", within = 30d)"#);
    assert_eq!(pastry_lately["count"], 1);
    assert_eq!(pastry_lately["sample"], serde_json::json!(["M1"]));

    let pastry_ever_not_beans = preview(
        dir.path(),
        r#"bought(category = "pastry") and not bought(category = "beans")"#,
    );
    assert_eq!(
        pastry_ever_not_beans["sample"],
        serde_json::json!(["M1", "M3"])
    );

    let interested = preview(
        dir.path(),
        "event(cart_add, within = 30d, no_purchase_since)",
    );
    assert_eq!(
        interested["sample"],
        serde_json::json!(["M2"]),
        "M1 bought after carting"
    );

    let profile = preview(
        dir.path(),
        r#"gender = female and region = "Taipei" and consent(line)"#,
    );
    assert_eq!(profile["sample"], serde_json::json!(["M1"]));
    let thirties = preview(dir.path(), "age >= 30 and birthday_month = 11");
    assert_eq!(
        thirties["sample"],
        serde_json::json!(["M1"]),
        "36 on 2026-11-22"
    );

    let spent = preview(
        dir.path(),
        "spent(within = 30d) >= 360 or average_order > 400",
    );
    assert_eq!(spent["sample"], serde_json::json!(["M1", "M2"]));

    // The models: the preview's NESL agrees with `segment counts`.
    let counts: serde_json::Value = serde_json::from_str(&stdout(&regulars(
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
    for label in ["N", "E0", "S1", "S2", "S3", "L", "prospect"] {
        let previewed = preview(dir.path(), &format!("nesl = {label}"));
        assert_eq!(
            previewed["count"].as_u64(),
            Some(counts["counts"][label].as_u64().unwrap_or(0)),
            "nesl = {label}"
        );
    }

    let out = regulars(
        dir.path(),
        &["audience", "preview", "nesl = S9", "--as-of", "2026-11-22"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`S9` is not a nesl label (N, E0, S1, S2, S3, L, prospect)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn saved_audiences_are_saved_listed_tagged_exported_and_deleted_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let members = write(
        dir.path(),
        "members.csv",
        "member_id,name,gender,email\nM1,林小美,female,mei@example.com\nM2,Chen Wei,male,\nM3,王大明,male,ming@example.com\n",
    );
    import(dir.path(), "members", members.to_str().unwrap());
    let run = |args: &[&str]| {
        let out = regulars(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };

    let saved = run(&["audience", "save", "men", "gender = male", "--tag", "man"]);
    assert_eq!(saved, "saved `men`: 2 members (2 entered, 0 left)\n");
    let list = write(
        dir.path(),
        "guests.csv",
        "member_id,email\nM3,\n,MEI@example.com\n,stranger@example.com\n",
    );
    let out = regulars(
        dir.path(),
        &[
            "audience",
            "save",
            "guests",
            "--members",
            list.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "saved `guests`: 2 members (2 entered, 0 left)\n"
    );
    assert!(
        stderr(&out).contains(
            "1 phone(s) or e-mail(s) name no member and were skipped: stranger@example.com"
        ),
        "{}",
        stderr(&out)
    );
    let vips = write(dir.path(), "vips.csv", "M1\n");
    run(&[
        "audience",
        "save",
        "tagged vips",
        r#"tag("vip") or tag("man")"#,
    ]);
    let tagged = run(&["audience", "tag", "vip", "--file", vips.to_str().unwrap()]);
    assert_eq!(
        tagged,
        "gave `vip` to 1 members (0 had it that way already)\n"
    );

    let listed = run(&["audience", "list"]);
    assert_eq!(
        listed,
        "guests\t2 members\t(static list)\n\
         men\t2 members\tgender = male  [tag man]\n\
         tagged vips\t3 members\ttag(\"vip\") or tag(\"man\")\n"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&run(&["--json", "audience", "show", "guests"])).unwrap();
    assert_eq!(shown["sample"], serde_json::json!(["M1", "M3"]));

    let csv = run(&[
        "audience",
        "export",
        "guests",
        "--columns",
        "member_id,name,email",
    ]);
    assert_eq!(
        csv,
        "\u{feff}member_id,name,email\nM1,林小美,mei@example.com\nM3,王大明,ming@example.com\n"
    );
    let ad = run(&["audience", "export", "men", "--ad", "google"]);
    assert_eq!(ad.lines().count(), 2, "M2 has no contact: {ad}");

    let refused = regulars(dir.path(), &["audience", "delete", "men"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("is read by tagged vips"),
        "{}",
        stderr(&refused)
    );
    run(&["audience", "delete", "tagged vips"]);
    run(&["audience", "delete", "men"]);
    assert_eq!(
        run(&["audience", "list"]),
        "guests\t2 members\t(static list)\n"
    );

    let bad = write(dir.path(), "bad.csv", "member_id\nM1\n\u{7}\n");
    let out = regulars(
        dir.path(),
        &["audience", "tag", "vip", "--file", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.csv:3: member_id:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn presets_are_saved_once_and_agree_with_the_rules_they_stand_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = regulars(
        dir.path(),
        &[
            "generate",
            "--members",
            "300",
            "--seed",
            "5",
            "--out",
            "brand",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for kind in ["members", "orders", "order-lines", "events"] {
        import(dir.path(), kind, &format!("brand/{kind}.csv"));
    }
    let out = regulars(dir.path(), &["--json", "audience", "presets"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let installed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = installed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "interest users",
            "cart abandoners",
            "new customers",
            "repurchase cohort",
            "vip",
            "birthday this month"
        ]
    );
    let again = regulars(dir.path(), &["audience", "presets"]);
    assert_eq!(stdout(&again), "every preset is saved already\n");

    // "Birthday this month" is the members whose birthday month is today's month.
    let count_of = |name: &str| {
        installed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["members"]
            .as_u64()
            .unwrap()
    };
    let out = regulars(
        dir.path(),
        &["--json", "audience", "preview", "orders >= 0"],
    );
    let today: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let month: u32 = today["as_of"].as_str().unwrap()[5..7].parse().unwrap();
    let out = regulars(
        dir.path(),
        &[
            "--json",
            "audience",
            "preview",
            &format!("birthday_month = {month}"),
        ],
    );
    let by_month: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        Some(count_of("birthday this month")),
        by_month["count"].as_u64()
    );
    assert!(
        count_of("birthday this month") > 0,
        "300 members have birthdays this month"
    );
    // Coffee beans are rebought on a cycle, so some members are inside it.
    assert!(
        count_of("repurchase cohort") > 0,
        "{}",
        count_of("repurchase cohort")
    );
    // The VIPs are about a tenth of the buyers.
    let buyers = regulars(
        dir.path(),
        &["--json", "audience", "preview", "orders >= 1"],
    );
    let buyers: serde_json::Value = serde_json::from_str(&stdout(&buyers)).unwrap();
    let buyers = buyers["count"].as_u64().unwrap();
    let vip = count_of("vip");
    assert!(
        vip * 100 >= buyers * 5 && vip * 100 <= buyers * 15,
        "{vip} of {buyers}"
    );
}
