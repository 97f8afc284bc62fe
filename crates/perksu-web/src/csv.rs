//! CSV exports of the history pages, in the same shape and with the same field rules as the
//! API's usage report CSV.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The most rows one export holds: a limit on everything.
pub const MAX_ROWS: i64 = 10_000;

/// One CSV field: quoted when it holds a separator, a quote or a line break, and prefixed with
/// `'` when it starts like a spreadsheet formula, so an exported note cannot run as one.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One line of fields, ended with a newline.
pub fn line(fields: &[&str]) -> String {
    let mut line = fields
        .iter()
        .map(|value| field(value))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// A CSV download named `filename`.
pub fn download(filename: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_made_formula_safe() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(line(&["a", "b"]), "a,b\n");
    }
}
