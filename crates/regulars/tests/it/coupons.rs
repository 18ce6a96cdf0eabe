//! `regulars coupons …`: a template saved from its JSON file, a coupon issued once per key,
//! validated against a basket file, and redeemed once even when many processes try at once.

use crate::{regulars, stderr, stdout, write};

#[test]
fn coupon_commands_issue_once_per_key_and_redeem_once_from_many_processes() {
    let dir = tempfile::tempdir().unwrap();
    let members = write(dir.path(), "members.csv", "member_id,name\nM1,Amy\n");
    let out = regulars(
        dir.path(),
        &["import", "members", members.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run = |args: &[&str]| regulars(dir.path(), args);

    let template = write(
        dir.path(),
        "threshold.json",
        r#"{"title": "NT$100 off every NT$1,000", "offer": {"kind": "spend_threshold",
            "threshold": 100000, "amount": 10000, "each": true}, "validity": {"days": 14}}"#,
    );
    let saved = run(&[
        "coupons",
        "template",
        "every-1000",
        "--file",
        template.to_str().unwrap(),
    ]);
    assert!(saved.status.success(), "{}", stderr(&saved));
    assert!(stdout(&saved).starts_with("every-1000\tspend_threshold\t"));
    let broken = write(
        dir.path(),
        "broken.json",
        r#"{"title": "x", "offer": {"kind": "percent_off", "percent": 0}, "validity": {}}"#,
    );
    let refused = run(&[
        "coupons",
        "template",
        "broken",
        "--file",
        broken.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("broken.json"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("validity: give days, or from and until"));

    let issue = [
        "coupons",
        "issue",
        "every-1000",
        "--member",
        "M1",
        "--idempotency-key",
        "k1",
    ];
    let first = run(&[&issue[..], &["--json"]].concat());
    assert!(first.status.success(), "{}", stderr(&first));
    let coupon: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(coupon["replayed"], false);
    let code = coupon["code"].as_str().unwrap().to_owned();
    let again = run(&issue);
    assert!(stdout(&again).starts_with("already issued under this key: "));
    assert!(stdout(&again).contains(&code));

    let basket = write(
        dir.path(),
        "basket.json",
        r#"{"lines": [{"sku": "BEANS-1KG", "category": "beans", "quantity": 2, "unit_price": 120000}]}"#,
    );
    let basket = basket.to_str().unwrap();
    let checked = run(&["coupons", "validate", "M1", &code, "--basket", basket]);
    assert_eq!(
        stdout(&checked),
        format!("{code}\t-20000 items\t-0 shipping\n")
    );

    // Eight tills try to redeem it on eight orders at once: one goes through.
    let tries: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let run = &run;
                let code = code.clone();
                scope.spawn(move || {
                    let order = format!("O{n}");
                    run(&[
                        "coupons", "redeem", &code, "--member", "M1", "--order", &order,
                        "--basket", basket,
                    ])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let through = tries.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        through,
        1,
        "{:?}",
        tries.iter().map(stderr).collect::<Vec<_>>()
    );
    assert!(
        tries
            .iter()
            .filter(|o| !o.status.success())
            .all(|o| stderr(o).contains("is redeemed")),
        "{}",
        stderr(&tries[0])
    );
    let listed = run(&["coupons", "list", "M1"]);
    assert!(stdout(&listed).contains(&format!("{code}\tevery-1000\tredeemed")));
    let after = run(&["coupons", "validate", "M1", &code, "--basket", basket]);
    assert_eq!(after.status.code(), Some(1));
    assert!(stdout(&after).contains("does not apply: the coupon is redeemed"));
}
