//! User import from CSV over HTTP (`POST /api/users/import`): a dry run reports every bad row
//! exactly and changes nothing, a refused file creates nothing, a good file creates every user
//! with a wallet, department, manager and invitation, and the access rules, limits and races.

#[path = "../common/mod.rs"]
mod common;

use std::collections::HashMap;

use futures::future::join;
use reqwest::Method;
use serde_json::{json, Value};

use common::{Reply, TestApp};

/// Sends `body` to the import endpoint as `content_type`.
async fn send(app: &TestApp, token: &str, query: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let response = app
        .client
        .post(format!("{}/api/users/import{query}", app.base_url))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body {text:?}")),
        headers,
    }
}

async fn import(app: &TestApp, token: &str, query: &str, csv: &str) -> Reply {
    send(app, token, query, "text/csv", csv.as_bytes().to_vec()).await
}

/// The errors of a reply as (line, column, reason).
fn errors(reply: &Reply) -> Vec<(u64, Option<String>, String)> {
    let list = reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"));
    assert_eq!(reply.body["error_count"], list.len(), "{reply:?}");
    list.iter()
        .map(|error| {
            (
                error["line"].as_u64().expect("line"),
                error["column"].as_str().map(str::to_owned),
                error["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect()
}

/// How many rows the tables an import writes hold.
async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .expect("connect");
    let mut out = Vec::new();
    for table in [
        "users",
        "wallets",
        "departments",
        "notifications",
        "notification_outbox",
        "user_imports",
    ] {
        let row = sqlx::query(&format!("select count(*) as n from {table}"))
            .fetch_one(&mut db)
            .await
            .expect("count");
        out.push((table, row.get::<i64, _>("n")));
    }
    let _ = db.close().await;
    out
}

/// One query's rows as text columns, for checks the API does not expose.
async fn select(app: &TestApp, sql: &str, bind: &str) -> Vec<Vec<Option<String>>> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .expect("connect");
    let rows = sqlx::query(sql)
        .bind(bind)
        .fetch_all(&mut db)
        .await
        .expect("select");
    let out = rows
        .iter()
        .map(|row| {
            (0..row.len())
                .map(|i| row.get::<Option<String>, _>(i))
                .collect()
        })
        .collect();
    let _ = db.close().await;
    out
}

const HEADER: &str = "email,first_name,last_name,role,department,manager_email\n";

/// A file with one of each kind of mistake, and the errors it must get, in order.
fn bad_file() -> (String, Vec<(u64, Option<String>, String)>) {
    let rows = [
        "ann@acme.test,Ann,Archer,employee,Sales,manager@acme.test", // 2: good
        "not-an-email,Bo,Baker,employee,,",                          // 3
        "cy@acme.test,Cy,Cole,wizard,,",                             // 4
        "ANN@acme.test,Ann,Again,lead,,",                            // 5
        "alice@acme.test,Alice,Again,employee,,",                    // 6
        "dee@acme.test,Dee,Dunn,employee,,ghost@acme.test",          // 7
        "eve@acme.test,,Evans,employee,,",                           // 8
        "fay@acme.test,Fay, ,employee,,",                            // 9
        "gus@acme.test,\"Gus\nMulti\",Gray,platform_admin,,",        // 10-11
        "hal@acme.test,Hal,Hill,employee",                           // 12
        "ivy@acme.test,Ivy,Ives,employee,Sales,ann@acme.test",       // 13: good
    ];
    let file = format!("{HEADER}{}\n", rows.join("\n"));
    let cell =
        |line, column: &str, reason: &str| (line, Some(column.to_owned()), reason.to_owned());
    let expected = vec![
        cell(3, "email", "email must be a valid address"),
        cell(
            4,
            "role",
            "\"wizard\" is not a role: use tenant_manager, lead or employee",
        ),
        cell(5, "email", "ann@acme.test already appears on line 2"),
        cell(6, "email", "A user with this email already exists"),
        cell(
            7,
            "manager_email",
            "ghost@acme.test is neither a user of this tenant nor a row of this file",
        ),
        cell(8, "first_name", "first_name must not be empty"),
        cell(9, "last_name", "last_name must not be empty"),
        cell(
            10,
            "role",
            "\"platform_admin\" is not a role: use tenant_manager, lead or employee",
        ),
        (
            12,
            None,
            "This row has 4 fields where the header has 6".to_owned(),
        ),
    ];
    (file, expected)
}

/// 50 people: five leads reporting to the manager, each with nine employees, who are listed
/// before their lead (a manager may be a later row). Departments: Sales (which the tenant has,
/// spelled differently), Support and Engineering (new).
fn good_file(slug: &str) -> String {
    let departments = ["sales", "Support", "Engineering", "Support", "Engineering"];
    let mut file = String::from("role,email,last_name,first_name,manager_email,department\n");
    for (team, department) in departments.iter().enumerate() {
        for member in 0..9 {
            file.push_str(&format!(
                "employee,e{team}-{member}@{slug}.test,Member{member},Team{team},\
                 lead{team}@{slug}.test,{department}\n"
            ));
        }
        file.push_str(&format!(
            "lead,lead{team}@{slug}.test,Lead,Team{team},manager@{slug}.test,{department}\n"
        ));
    }
    file
}

backend_tests! {
    async fn a_dry_run_reports_every_bad_row_exactly_and_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let manager = &company.manager.1;
        let (file, expected) = bad_file();
        let before = counts(&app).await;
        let reply = import(&app, manager, "?dry_run=true", &file).await;
        reply.assert_status(200);
        assert_eq!(reply.body["rows"], 11, "{reply:?}");
        assert_eq!(errors(&reply), expected);
        assert_eq!(counts(&app).await, before);

        // Without dry_run the same file is refused whole, with the same errors.
        let refused = import(&app, manager, "", &file).await;
        refused.assert_error(422, "import_invalid");
        assert_eq!(refused.body["rows"], 11);
        assert_eq!(errors(&refused), expected);
        assert_eq!(counts(&app).await, before);
        let users = app.get("/api/users", manager).await;
        let emails: Vec<&str> = users.body.as_array().expect("users").iter()
            .filter_map(|u| u["email"].as_str()).collect();
        assert!(!emails.contains(&"ann@acme.test"), "{emails:?}");
    }

    async fn a_good_import_creates_every_user_with_a_wallet_department_manager_and_invitation(
        app: TestApp
    ) {
        let company = app.company("acme", json!(1000)).await;
        let (manager_id, manager) = &company.manager;
        app.post("/api/departments", manager, json!({"name": "Sales"}))
            .await
            .assert_status(201);
        let before = counts(&app).await;

        let check = import(&app, manager, "?dry_run=true", &good_file("acme")).await;
        check.assert_status(200);
        assert_eq!(check.body, json!({"rows": 50, "errors": [], "error_count": 0}));
        assert_eq!(counts(&app).await, before);

        let reply = import(&app, manager, "", &good_file("acme")).await;
        reply.assert_status(201);
        assert_eq!(reply.body, json!({"rows": 50, "created": 50}));

        let departments = app.get("/api/departments", manager).await;
        let departments: HashMap<String, (String, i64)> = departments.body.as_array()
            .expect("departments").iter()
            .map(|d| (d["name"].as_str().unwrap_or_default().to_owned(),
                      (d["id"].as_str().unwrap_or_default().to_owned(),
                       d["member_count"].as_i64().unwrap_or_default())))
            .collect();
        let names: Vec<&str> = {
            let mut names: Vec<&str> = departments.keys().map(String::as_str).collect();
            names.sort_unstable();
            names
        };
        assert_eq!(names, ["Engineering", "Sales", "Support"]);
        assert_eq!(departments["Sales"].1, 10);
        assert_eq!(departments["Support"].1, 20);
        assert_eq!(departments["Engineering"].1, 20);

        let users = app.get("/api/users", manager).await;
        let users: HashMap<String, Value> = users.body.as_array().expect("users").iter()
            .map(|u| (u["email"].as_str().unwrap_or_default().to_owned(), u.clone()))
            .collect();
        assert_eq!(users.len(), 54, "four users before, fifty imported");
        let team_departments = ["Sales", "Support", "Engineering", "Support", "Engineering"];
        for team in 0..5 {
            let lead = &users[&format!("lead{team}@acme.test")];
            assert_eq!(lead["role"], "lead");
            assert_eq!(lead["first_name"], format!("Team{team}"));
            assert_eq!(lead["manager_id"], manager_id.as_str());
            assert_eq!(lead["department_id"], departments[team_departments[team]].0.as_str());
            for member in 0..9 {
                let employee = &users[&format!("e{team}-{member}@acme.test")];
                assert_eq!(employee["role"], "employee");
                assert_eq!(employee["status"], "active");
                assert_eq!(employee["last_name"], format!("Member{member}"));
                assert_eq!(employee["manager_id"], lead["id"]);
                assert_eq!(employee["department_id"], lead["department_id"]);
            }
        }

        // Every imported user has a wallet: each takes an award.
        let imported: Vec<&Value> = users.iter()
            .filter(|(email, _)| !["manager", "lead", "alice", "bob"]
                .contains(&email.trim_end_matches("@acme.test")))
            .map(|(_, user)| user)
            .collect();
        assert_eq!(imported.len(), 50);
        for user in &imported {
            app.post("/api/v1/points/award-to-user", manager,
                json!({"to_user_id": user["id"], "amount": "1", "recognition_message": "Welcome"}))
                .await
                .assert_status(200);
        }
        app.assert_ledger_consistent().await;

        // One invitation per user, waiting in the outbox for the email sender.
        for user in &imported {
            let id = user["id"].as_str().expect("id");
            let invitations = select(&app,
                "select n.title, n.reference_id, o.status, o.channel from notifications n \
                 join notification_outbox o on o.notification_id = n.id \
                 where n.user_id = $1 and n.kind = 'invitation'", id).await;
            assert_eq!(invitations, vec![vec![
                Some("You're invited to Tenant acme".to_owned()),
                Some(id.to_owned()),
                Some("pending".to_owned()),
                Some("email".to_owned()),
            ]]);
        }
        let record = select(&app,
            "select actor_id, cast(row_count as text), cast(created_count as text) \
             from user_imports where tenant_id = $1", &company.tenant_id).await;
        assert_eq!(record, vec![vec![
            Some(manager_id.clone()), Some("50".to_owned()), Some("50".to_owned()),
        ]]);

        // An invited user has no password: no password signs them in, not even the marker.
        for password in ["!invited", "correct horse battery", ""] {
            app.request(Method::POST, "/api/auth/login", None,
                Some(&json!({"email": "e0-0@acme.test", "password": password})), &[])
                .await
                .assert_error(401, "invalid_credentials");
        }

        // Importing the same file again is refused row by row: every email is taken.
        let again = import(&app, manager, "", &good_file("acme")).await;
        again.assert_error(422, "import_invalid");
        assert_eq!(again.body["error_count"], 50);
    }

    async fn a_platform_admin_names_the_tenant_and_an_unknown_one_is_not_found(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let admin = &app.admin_token;
        let file = format!("{HEADER}new@acme.test,New,Person,employee,,\n");
        import(&app, admin, "", &file).await.assert_error(400, "tenant_id_required");
        import(&app, admin, "?tenant_id=no-such-tenant", &file)
            .await
            .assert_error(404, "tenant_not_found");
        let reply = import(&app, admin, &format!("?tenant_id={}", company.tenant_id), &file).await;
        reply.assert_status(201);
        assert_eq!(reply.body, json!({"rows": 1, "created": 1}));
        let record = select(&app, "select actor_id from user_imports where tenant_id = $1",
            &company.tenant_id).await;
        assert_eq!(record, vec![vec![Some(app.admin_id.clone())]]);
    }

    async fn leads_employees_other_types_and_oversized_files_are_refused(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let other = app.company("globex", json!(0)).await;
        let file = format!("{HEADER}new@acme.test,New,Person,employee,,\n");
        let before = counts(&app).await;
        import(&app, &company.lead.1, "", &file).await.assert_error(403, "forbidden");
        import(&app, &company.alice.1, "?dry_run=true", &file).await.assert_error(403, "forbidden");
        // Another tenant's id is answered as a tenant that does not exist.
        import(&app, &company.manager.1, &format!("?tenant_id={}", other.tenant_id), &file)
            .await
            .assert_error(404, "tenant_not_found");
        send(&app, &company.manager.1, "", "application/json", b"{}".to_vec())
            .await
            .assert_error(415, "unsupported_media_type");
        send(&app, &company.manager.1, "", "text/plain", file.clone().into_bytes())
            .await
            .assert_error(415, "unsupported_media_type");
        let mut huge = HEADER.to_owned();
        let mut n = 0;
        while huge.len() <= 4 * 1024 * 1024 {
            huge.push_str(&format!("person{n}@acme.test,Person,Number{n},employee,,\n"));
            n += 1;
        }
        send(&app, &company.manager.1, "", "text/csv", huge.into_bytes())
            .await
            .assert_error(413, "payload_too_large");
        let anonymous = app.client.post(format!("{}/api/users/import", app.base_url))
            .header("content-type", "text/csv").body(file.clone()).send().await.expect("sent");
        assert_eq!(anonymous.status().as_u16(), 401);
        assert_eq!(counts(&app).await, before);
        // A charset parameter is still CSV.
        send(&app, &company.manager.1, "", "text/csv; charset=utf-8", file.into_bytes())
            .await
            .assert_status(201);
    }

    async fn empty_files_header_only_and_unknown_columns_are_refused_with_line_one_errors(
        app: TestApp
    ) {
        let company = app.company("acme", json!(0)).await;
        let manager = &company.manager.1;
        let empty = import(&app, manager, "", "").await;
        empty.assert_error(422, "import_invalid");
        assert_eq!(empty.body["rows"], 0);
        let found = errors(&empty);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1.clone()), (1, None));
        assert!(found[0].2.starts_with("The file is empty"), "{found:?}");

        let header_only = import(&app, manager, "?dry_run=true", HEADER).await;
        header_only.assert_status(200);
        assert_eq!(errors(&header_only),
            vec![(1, None, "The file has a header but no rows".to_owned())]);

        let unknown = import(&app, manager, "",
            "email,first_name,role,shoe_size\nann@acme.test,Ann,employee,42\n").await;
        unknown.assert_error(422, "import_invalid");
        let found = errors(&unknown);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0, found[0].1.clone()), (1, None));
        assert!(found[0].2.contains("shoe_size"), "{found:?}");
        assert_eq!(found[1], (1, Some("last_name".to_owned()),
            "This required column is missing from the header".to_owned()));
    }

    async fn an_import_sees_only_its_own_tenant(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let globex = app.company("globex", json!(0)).await;
        // Globex's manager is not a manager acme can name; globex's emails are still taken
        // (emails are unique across the service, as for `POST /api/users`).
        let file = format!("{HEADER}\
            new@acme.test,New,Person,employee,,manager@globex.test\n\
            alice@globex.test,Alice,Copy,employee,,\n");
        let reply = import(&app, &acme.manager.1, "?dry_run=true", &file).await;
        reply.assert_status(200);
        assert_eq!(errors(&reply), vec![
            (2, Some("manager_email".to_owned()),
             "manager@globex.test is neither a user of this tenant nor a row of this file"
                .to_owned()),
            (3, Some("email".to_owned()), "A user with this email already exists".to_owned()),
        ]);
        let good = format!("{HEADER}new@acme.test,New,Person,employee,Ops,manager@acme.test\n");
        import(&app, &acme.manager.1, "", &good).await.assert_status(201);
        let seen = app.get("/api/users", &globex.manager.1).await;
        assert!(!seen.body.to_string().contains("new@acme.test"), "{seen:?}");
        let departments = app.get("/api/departments", &globex.manager.1).await;
        assert_eq!(departments.body, json!([]));
    }

    async fn concurrent_imports_create_each_email_once_and_share_new_departments(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let manager = &company.manager.1;
        let file = |prefix: &str| {
            let mut file = HEADER.to_owned();
            for n in 0..20 {
                file.push_str(&format!("shared{n}@acme.test,Shared,Number{n},employee,Ops,\n"));
                file.push_str(&format!("{prefix}{n}@acme.test,Own,Number{n},employee,Ops,\n"));
            }
            file
        };
        let (first, second) = join(
            import(&app, manager, "", &file("a")),
            import(&app, manager, "", &file("b")),
        ).await;
        let statuses = [first.status.as_u16(), second.status.as_u16()];
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{first:?} {second:?}");
        let loser = if statuses[0] == 201 { &second } else { &first };
        // Refused before it wrote (the other had committed: every shared email is taken) or
        // while writing (on PostgreSQL it waited for the other's rows, then found them).
        match loser.status.as_u16() {
            422 => assert_eq!(loser.body["error_count"], 20, "{loser:?}"),
            409 => assert_eq!(loser.body["code"], "email_taken", "{loser:?}"),
            other => panic!("unexpected status {other}: {loser:?}"),
        }
        let users = app.get("/api/users", manager).await;
        let emails: Vec<String> = users.body.as_array().expect("users").iter()
            .filter_map(|u| u["email"].as_str().map(str::to_owned)).collect();
        assert_eq!(emails.len(), 4 + 40);
        for n in 0..20 {
            let shared = format!("shared{n}@acme.test");
            assert_eq!(emails.iter().filter(|e| **e == shared).count(), 1);
        }

        // Two imports of different people into the same new department both succeed, and
        // the department is made once.
        let (first, second) = join(
            import(&app, manager, "", &format!("{HEADER}c@acme.test,C,C,employee,Night shift,\n")),
            import(&app, manager, "", &format!("{HEADER}d@acme.test,D,D,employee,Night shift,\n")),
        ).await;
        first.assert_status(201);
        second.assert_status(201);
        let departments = app.get("/api/departments", manager).await;
        let night: Vec<&Value> = departments.body.as_array().expect("departments").iter()
            .filter(|d| d["name"] == "Night shift").collect();
        assert_eq!(night.len(), 1);
        assert_eq!(night[0]["member_count"], 2);
    }
}
