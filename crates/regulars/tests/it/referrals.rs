//! `regulars referrals …` and `regulars wallet`: a code per member, a referral recorded once and
//! refused with the rule it breaks, and the wallet as JSON.

use crate::{regulars, stderr, stdout, write};

#[test]
fn referral_commands_refer_once_and_the_wallet_shows_the_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "regulars.toml",
        "[referrals]\nenabled = true\nreferrer_points = 100\n",
    );
    let members = write(
        dir.path(),
        "members.csv",
        "member_id,name,email\nM1,Amy,amy@example.com\nM2,Bo,bo@example.com\n",
    );
    let run = |args: &[&str]| regulars(dir.path(), args);
    let out = run(&["import", "members", members.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let code = run(&["referrals", "code", "M1"]);
    assert!(code.status.success(), "{}", stderr(&code));
    let code = stdout(&code).trim().to_owned();
    assert_eq!(code.len(), 8);
    assert_eq!(stdout(&run(&["referrals", "code", "M1"])).trim(), code);

    let referred = run(&["referrals", "refer", &code, "M2", "--device", "d-1"]);
    assert!(referred.status.success(), "{}", stderr(&referred));
    assert!(
        stdout(&referred).starts_with("M2\treferred by M1\t"),
        "{}",
        stdout(&referred)
    );
    let again = run(&["referrals", "refer", &code, "M2", "--device", "d-1"]);
    assert!(again.status.success());
    assert!(stderr(&again).contains("recorded before"));
    let own = run(&["referrals", "refer", &code, "M1"]);
    assert!(!own.status.success());
    assert!(
        stderr(&own).contains("cannot refer themselves"),
        "{}",
        stderr(&own)
    );

    let list = run(&["referrals", "list", "M1", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert_eq!(list["referrals"][0]["status"], "pending");

    let wallet = run(&["wallet", "M1", "--json"]);
    assert!(wallet.status.success(), "{}", stderr(&wallet));
    let wallet: serde_json::Value = serde_json::from_str(&stdout(&wallet)).unwrap();
    assert_eq!(wallet["referral_code"], code.as_str());
    assert_eq!(wallet["points"]["available"], 0);
    assert!(wallet.get("tier").is_none());
}
