//! `POST /api/users/import`: users from a CSV file, checked row by row and created all
//! together or not at all.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perksu_store::{ImportError, ImportOptions, ImportReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth, CsvBody, MAX_CSV_BODY_BYTES};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_users))
        .layer(DefaultBodyLimit::max(MAX_CSV_BODY_BYTES))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Platform admins: the tenant to import into (required). Tenant managers import into
    /// their own tenant.
    tenant_id: Option<String>,
    /// Check the file and change nothing.
    #[serde(default)]
    dry_run: bool,
}

/// One problem with the file.
#[derive(Serialize, ToSchema)]
pub struct ImportErrorBody {
    /// The line of the file, from 1 for the header; a row with a quoted line break counts
    /// from its first line.
    line: u64,
    /// The column (`email`, `first_name`, `last_name`, `role`, `department`,
    /// `manager_email`), or `null` when the problem is the row's or the file's as a whole.
    column: Option<&'static str>,
    reason: String,
}

impl From<ImportError> for ImportErrorBody {
    fn from(error: ImportError) -> Self {
        ImportErrorBody {
            line: error.line,
            column: error.column,
            reason: error.reason,
        }
    }
}

/// A dry run's answer: every problem of every row. Nothing was changed.
#[derive(Serialize, ToSchema)]
pub struct ImportCheckBody {
    /// Data rows in the file (the header is not one).
    rows: usize,
    /// Ordered by line; empty when the file would import.
    errors: Vec<ImportErrorBody>,
    error_count: usize,
}

/// A refused import: the file had problems, and nothing was created.
#[derive(Serialize, ToSchema)]
pub struct ImportRefusedBody {
    detail: String,
    /// `import_invalid`.
    code: &'static str,
    rows: usize,
    errors: Vec<ImportErrorBody>,
    error_count: usize,
}

/// A completed import: every row became a user with a wallet and an invitation.
#[derive(Serialize, ToSchema)]
pub struct ImportedBody {
    rows: usize,
    created: usize,
}

/// Import users from a CSV file (tenant manager for their tenant; platform admin with
/// `tenant_id`). Columns, in any order: `email`, `first_name`, `last_name`, `role`
/// (`tenant_manager`, `lead` or `employee`), and optionally `department` (created if new) and
/// `manager_email` (a user of the tenant or another row of the file). With `dry_run=true` the
/// file is only checked. Otherwise it is imported all or nothing: any bad row refuses the whole
/// file with 422 and the same errors. Each user gets a wallet and an emailed invitation to set a
/// password; until then they cannot sign in.
#[utoipa::path(post, path = "/import", tag = "Users", params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "The CSV file: a header line naming the columns, then one user per line"),
    responses((status = 200, body = ImportCheckBody, description = "The dry run's findings"),
              (status = 201, body = ImportedBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody,
               description = "A concurrent import or creation took one of the emails first \
                              (`email_taken`); nothing was created"),
              (status = 415, body = ErrorBody,
               description = "The body is not `text/csv` (`unsupported_media_type`)"),
              (status = 422, body = ImportRefusedBody,
               description = "The file has problems (`import_invalid`); nothing was created")))]
async fn import_users(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<ImportQuery>,
    CsvBody(csv): CsvBody,
) -> ApiResult<Response> {
    let options = if query.dry_run {
        ImportOptions::dry_run()
    } else {
        ImportOptions::apply()
    };
    let report = state
        .store
        .import_users(&auth.actor, query.tenant_id.as_deref(), &csv, options)
        .await?;
    Ok(respond(report, query.dry_run))
}

fn respond(report: ImportReport, dry_run: bool) -> Response {
    let rows = report.rows;
    let error_count = report.errors.len();
    let errors = || {
        report
            .errors
            .into_iter()
            .map(ImportErrorBody::from)
            .collect()
    };
    if dry_run {
        let body = ImportCheckBody {
            rows,
            errors: errors(),
            error_count,
        };
        return (StatusCode::OK, Json(body)).into_response();
    }
    if error_count > 0 {
        let body = ImportRefusedBody {
            detail: format!(
                "The file has {error_count} problem(s); nothing was imported. Fix them and send \
                 it again (dry_run=true checks without importing)"
            ),
            code: "import_invalid",
            rows,
            errors: errors(),
            error_count,
        };
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    }
    let body = ImportedBody {
        rows,
        created: report.created,
    };
    (StatusCode::CREATED, Json(body)).into_response()
}
