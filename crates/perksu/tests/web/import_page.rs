//! Importing people on the manager's People page: the check lists every problem and changes
//! nothing, a refused import creates nobody, a clean one creates everyone, and the page is a
//! tenant manager's, behind its form token.

use serde_json::json;

use crate::backend_tests;

use crate::browser::{Browser, Page};
use crate::common::{Company, TestApp};

const MANAGER: &str = "manager@acme.test";
const ALICE: &str = "alice@acme.test";
const IMPORT: &str = "/manager/users/import";

const GOOD: &str = "email,first_name,last_name,role,department,manager_email\n\
                    nina@acme.test,Nina,North,lead,Design,manager@acme.test\n\
                    omar@acme.test,Omar,Ortiz,employee,Design,nina@acme.test\n";

/// One good row, a role that is none, and an email the company already has.
const BAD: &str = "email,first_name,last_name,role\n\
                   nina@acme.test,Nina,North,lead\n\
                   omar@acme.test,Omar,Ortiz,boss\n\
                   alice@acme.test,Alice,Again,employee\n";

/// Sends `csv` through the import form with `action` (`check` or `import`).
async fn upload(browser: &mut Browser, action: &str, csv: &str) -> Page {
    let token = browser.get(IMPORT).await.assert_status(200).csrf_token();
    browser
        .post_multipart(
            IMPORT,
            &[("csrf_token", &token), ("action", action)],
            ("file", "people.csv", csv.as_bytes()),
        )
        .await
}

/// The emails of the company's users, sorted.
async fn emails(app: &TestApp, company: &Company) -> Vec<String> {
    let users = app.get("/api/users", &company.manager.1).await;
    users.assert_status(200);
    let mut emails: Vec<String> = users
        .body
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|user| user["email"].as_str().map(str::to_owned))
        .collect();
    emails.sort();
    emails
}

backend_tests! {
    async fn the_check_lists_every_problem_and_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let before = emails(&app, &company).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let page = upload(&mut manager, "check", BAD).await;
        page.assert_status(200)
            .assert_contains("The file has 2 problems. Nothing was imported")
            .assert_contains("<td class=\"number\">3</td><td>role</td><td>&#34;boss&#34; is not a role")
            .assert_contains("<td class=\"number\">4</td><td>email</td><td>A user with this email already exists");
        assert_eq!(emails(&app, &company).await, before);

        let page = upload(&mut manager, "check", GOOD).await;
        page.assert_status(200)
            .assert_contains("The file is ready: 2 people can be imported.");
        assert_eq!(emails(&app, &company).await, before);
    }

    async fn a_refused_import_creates_nobody(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let before = emails(&app, &company).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        upload(&mut manager, "import", BAD)
            .await
            .assert_status(422)
            .assert_contains("The file has 2 problems. Nothing was imported");
        assert_eq!(emails(&app, &company).await, before);
        assert!(!before.contains(&"nina@acme.test".to_owned()));
    }

    async fn a_clean_import_creates_everyone_with_their_department_and_manager(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        upload(&mut manager, "import", GOOD)
            .await
            .assert_status(200)
            .assert_contains("Imported 2 people.");
        let users = app.get("/api/users", &company.manager.1).await;
        let find = |email: &str| {
            users
                .body
                .as_array()
                .expect("users")
                .iter()
                .find(|user| user["email"] == email)
                .unwrap_or_else(|| panic!("{email} not imported: {users:?}"))
                .clone()
        };
        let (nina, omar) = (find("nina@acme.test"), find("omar@acme.test"));
        assert_eq!(nina["role"], "lead");
        assert_eq!(omar["role"], "employee");
        assert_eq!(omar["manager_id"], nina["id"]);
        assert_eq!(nina["manager_id"], json!(company.manager.0));
        assert_eq!(nina["department_id"], omar["department_id"]);
        manager
            .get("/manager/departments")
            .await
            .assert_status(200)
            .assert_contains("Design");
        // The same file again: every email is taken now, and nobody is added twice.
        upload(&mut manager, "import", GOOD)
            .await
            .assert_status(422)
            .assert_contains("The file has 2 problems");
        assert_eq!(emails(&app, &company).await.len(), 6);
    }

    async fn the_page_is_a_managers_and_needs_its_form_token_and_a_file(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let before = emails(&app, &company).await;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        alice.get(IMPORT).await.assert_status(403);
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        manager
            .post_multipart(
                IMPORT,
                &[("csrf_token", "forged"), ("action", "import")],
                ("file", "people.csv", GOOD.as_bytes()),
            )
            .await
            .assert_status(403);
        upload(&mut manager, "import", "")
            .await
            .assert_status(400)
            .assert_contains("Choose a CSV file to import.");
        assert_eq!(emails(&app, &company).await, before);
    }
}
