//! Importing people from a CSV file on the People page: "Check" reports every problem and
//! changes nothing, "Import" creates everyone at once or nobody. The same store call as
//! `POST /api/users/import`; the page only reads the upload and shows the report.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use perksu_store::{ImportOptions, ImportReport, IMPORT_COLUMNS, MAX_IMPORT_ROWS};

use crate::page::{pages, render, Chrome, Failure, PageError, Section};
use crate::session::{cookie, csrf_token, tokens_match, Manager, Viewer, SESSION_COOKIE};
use crate::WebState;

/// The largest upload: the API's 4 MiB for the file, and room for the form's other fields.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024 + 16 * 1024;

/// The most problems listed on the page; the count above the table is always complete.
const LISTED_PROBLEMS: usize = 500;

struct Problem {
    line: u64,
    column: &'static str,
    reason: String,
}

/// What the last check or import found, shown in the page's result section.
struct Outcome {
    message: String,
    /// `ready`, `done` or `refused`: the message's style.
    kind: &'static str,
    problems: Vec<Problem>,
    unlisted: usize,
}

#[derive(Template)]
#[template(path = "manager/user_import.html")]
struct ImportPage {
    chrome: Chrome,
    columns: &'static [&'static str],
    max_rows: usize,
    outcome: Option<Outcome>,
}

pages!(ImportPage);

fn page(viewer: &Viewer, outcome: Option<Outcome>) -> ImportPage {
    ImportPage {
        chrome: viewer.chrome(Section::ManagerPeople),
        columns: &IMPORT_COLUMNS,
        max_rows: MAX_IMPORT_ROWS,
        outcome,
    }
}

pub async fn show(Manager(viewer): Manager) -> Response {
    render(StatusCode::OK, &page(&viewer, None))
}

/// The upload as the form sends it: its token, which button was pressed, and the file.
struct Upload {
    dry_run: bool,
    /// `None` when no file (or an empty one) was chosen.
    file: Option<Vec<u8>>,
}

pub async fn upload(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let upload = read_upload(&headers, multipart).await?;
    let Some(file) = upload.file else {
        let outcome = refused("Choose a CSV file to import. Nothing was imported.".into());
        return Ok(render(
            StatusCode::BAD_REQUEST,
            &page(&viewer, Some(outcome)),
        ));
    };
    let options = if upload.dry_run {
        ImportOptions::dry_run()
    } else {
        ImportOptions::apply()
    };
    let result = state
        .store
        .import_users(&viewer.actor, None, &file, options)
        .await;
    let (status, outcome) = match result {
        Ok(report) => outcome_of(report, upload.dry_run),
        Err(error) => match Failure::from(error) {
            Failure::Refused(refusal) => (
                refusal.status,
                refused(format!("{} Nothing was imported.", refusal.message)),
            ),
            Failure::Page(error) => return Err(error),
        },
    };
    Ok(render(status, &page(&viewer, Some(outcome))))
}

fn outcome_of(report: ImportReport, dry_run: bool) -> (StatusCode, Outcome) {
    let count = report.errors.len();
    if count > 0 {
        let message = format!(
            "The file has {count} {}. Nothing was imported: correct the file and check it again.",
            if count == 1 { "problem" } else { "problems" }
        );
        let status = if dry_run {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let problems = report
            .errors
            .into_iter()
            .take(LISTED_PROBLEMS)
            .map(|error| Problem {
                line: error.line,
                column: error.column.unwrap_or(""),
                reason: error.reason,
            })
            .collect();
        let outcome = Outcome {
            message,
            kind: "refused",
            problems,
            unlisted: count.saturating_sub(LISTED_PROBLEMS),
        };
        return (status, outcome);
    }
    let (message, kind) = if dry_run {
        (
            format!(
                "The file is ready: {} {} can be imported.",
                report.rows,
                people(report.rows)
            ),
            "ready",
        )
    } else {
        (
            format!(
                "Imported {} {}. Each has a wallet and an invitation to set a password.",
                report.created,
                people(report.created)
            ),
            "done",
        )
    };
    let outcome = Outcome {
        message,
        kind,
        problems: Vec::new(),
        unlisted: 0,
    };
    (StatusCode::OK, outcome)
}

fn refused(message: String) -> Outcome {
    Outcome {
        message,
        kind: "refused",
        problems: Vec::new(),
        unlisted: 0,
    }
}

fn people(count: usize) -> &'static str {
    if count == 1 {
        "person"
    } else {
        "people"
    }
}

/// Reads the multipart form. The token is checked before the file is kept, so a forged post
/// costs no import.
async fn read_upload(headers: &HeaderMap, mut multipart: Multipart) -> Result<Upload, PageError> {
    let unreadable =
        |_| PageError::bad_request("The upload could not be read. Choose the file again.");
    let expected = cookie(headers, SESSION_COOKIE).map(|session| csrf_token(&session));
    let mut token_ok = false;
    let mut dry_run = true;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "csrf_token" => {
                let sent = field.text().await.map_err(unreadable)?;
                token_ok = expected
                    .as_deref()
                    .is_some_and(|expected| tokens_match(&sent, expected));
            }
            "action" => dry_run = field.text().await.map_err(unreadable)? != "import",
            "file" if token_ok => file = Some(field.bytes().await.map_err(unreadable)?.to_vec()),
            "file" => return Err(PageError::csrf()),
            _ => {}
        }
    }
    if !token_ok {
        return Err(PageError::csrf());
    }
    let file = file.filter(|file| !file.is_empty());
    Ok(Upload { dry_run, file })
}
