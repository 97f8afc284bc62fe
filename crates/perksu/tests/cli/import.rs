//! `perksu import-users`: a dry run lists every problem as `line L, column C: reason` and
//! changes nothing; a clean file imports every row; an unknown tenant is refused.

use sqlx::Row;

use super::{create_admin, perksu, TempDb, ADMIN_PASSWORD};

const GOOD: &str = "email,first_name,last_name,role,department,manager_email\n\
                    ann@acme.test,Ann,Archer,lead,Sales,\n\
                    bo@acme.test,Bo,Baker,employee,Sales,ann@acme.test\n";

const BAD: &str = "email,first_name,last_name,role,department,manager_email\n\
                   ann@acme.test,Ann,Archer,lead,Sales,\n\
                   not-an-email,Bo,Baker,employee,Sales,ann@acme.test\n\
                   cy@acme.test,Cy,Cole,wizard,,\n\
                   dee@acme.test,Dee\n";

/// `file` written next to the database; its path.
fn write(db: &TempDb, name: &str, file: &str) -> String {
    let path = db.path.with_file_name(name);
    std::fs::write(&path, file).expect("write the CSV");
    path.display().to_string()
}

async fn count(db: &TempDb, sql: &str) -> i64 {
    let mut connection = db.connect().await;
    let row = sqlx::query(sql)
        .fetch_one(&mut connection)
        .await
        .expect("count");
    row.get("n")
}

#[tokio::test]
async fn import_users_reports_each_problem_by_line_and_imports_only_a_clean_file() {
    let db = TempDb::new();
    create_admin(&db, "x@y.test", ADMIN_PASSWORD).assert_success();
    db.fund_a_tenant("x@y.test").await;
    let bad = write(&db, "bad.csv", BAD);
    let good = write(&db, "good.csv", GOOD);
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import-users",
            "--database-url",
            &db.url,
            "--tenant",
            "acme",
        ];
        args.extend_from_slice(extra);
        perksu(&args, None)
    };

    for dry_run in [true, false] {
        let args: Vec<&str> = if dry_run {
            vec!["--dry-run", &bad]
        } else {
            vec![&bad]
        };
        let refused = import(&args);
        refused.assert_failure_saying("3 problem(s) in 4 row(s); nothing was imported");
        assert_eq!(
            refused.stdout,
            "line 3, column email: email must be a valid address\n\
             line 4, column role: \"wizard\" is not a role: use tenant_manager, lead or employee\n\
             line 5: This row has 2 fields where the header has 6\n"
        );
        assert_eq!(db.count_users().await, 1, "only the admin");
    }

    let checked = import(&["--dry-run", &good]);
    checked.assert_success();
    assert!(
        checked.stdout.contains("OK: 2 row(s) checked"),
        "{checked:?}"
    );
    assert_eq!(db.count_users().await, 1);

    let imported = import(&[&good]);
    imported.assert_success();
    assert!(
        imported.stdout.contains("Imported 2 user(s) from 2 row(s)"),
        "{imported:?}"
    );
    assert_eq!(db.count_users().await, 3);
    let with_wallets = "select count(*) as n from users u join wallets w on w.user_id = u.id \
                        where u.email like '%@acme.test' and u.password_hash = '!invited'";
    assert_eq!(count(&db, with_wallets).await, 2);
    let invitations = "select count(*) as n from notifications where kind = 'invitation'";
    assert_eq!(count(&db, invitations).await, 2);
    let by_operator = "select count(*) as n from user_imports where actor_id is null \
                       and row_count = 2 and created_count = 2";
    assert_eq!(count(&db, by_operator).await, 1);

    let unknown = perksu(
        &[
            "import-users",
            "--database-url",
            &db.url,
            "--tenant",
            "nope",
            &good,
        ],
        None,
    );
    unknown.assert_failure_saying("Tenant not found");
}
