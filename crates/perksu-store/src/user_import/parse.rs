//! Reading an import file: the header, then each row checked on its own with the domain's
//! validators. What needs the database (existing users, managers) is checked by the caller.

use std::collections::HashMap;

use perksu_domain::{validate, Role};

use super::{ImportError, ImportProgress, MAX_IMPORT_ROWS};

/// The columns a file must have, in any order.
pub(crate) const REQUIRED_COLUMNS: [&str; 4] = ["email", "first_name", "last_name", "role"];
/// The columns a file may leave out; an empty cell means none.
pub(crate) const OPTIONAL_COLUMNS: [&str; 2] = ["department", "manager_email"];

/// A row whose every cell is acceptable on its own.
pub(crate) struct ParsedRow {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub department: Option<String>,
    pub manager_email: Option<String>,
}

pub(crate) struct ParsedFile {
    /// Data rows in the file, good and bad.
    pub row_count: usize,
    /// The rows without errors, in file order.
    pub rows: Vec<ParsedRow>,
    /// Every well-formed email of the file and the line it is on, bad rows' included, so a
    /// manager named by a row that is refused for another reason is not reported twice.
    pub emails: HashMap<String, u64>,
    /// Every well-formed `manager_email` and its line, bad rows' included, to be looked up.
    pub managers: Vec<(u64, String)>,
    pub errors: Vec<ImportError>,
}

/// Where each known column sits in a row.
struct Header {
    positions: HashMap<&'static str, usize>,
    width: usize,
}

/// Reads the whole file, then checks each row, telling `progress` how far it has got.
pub(crate) fn parse(csv: &[u8], progress: &(dyn Fn(ImportProgress) + Send + Sync)) -> ParsedFile {
    let csv = csv.strip_prefix(b"\xef\xbb\xbf").unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    let mut records = reader.byte_records();
    let mut file = ParsedFile {
        row_count: 0,
        rows: Vec::new(),
        emails: HashMap::new(),
        managers: Vec::new(),
        errors: Vec::new(),
    };
    let header = match records.next() {
        None => {
            file.errors.push(ImportError::row(
                1,
                format!(
                    "The file is empty: its first line must name the columns {}",
                    all_columns()
                ),
            ));
            return file;
        }
        Some(Err(error)) => {
            file.errors
                .push(ImportError::row(1, format!("Unreadable header: {error}")));
            return file;
        }
        Some(Ok(record)) => read_header(&record, &mut file.errors),
    };
    let mut readable = Vec::new();
    for record in records {
        let line = match &record {
            Ok(record) => record.position().map_or(0, csv::Position::line),
            Err(error) => error.position().map_or(0, csv::Position::line),
        };
        if file.row_count == MAX_IMPORT_ROWS {
            file.errors.push(ImportError::row(
                line,
                format!("A file may hold at most {MAX_IMPORT_ROWS} rows: split it"),
            ));
            break;
        }
        file.row_count += 1;
        match record {
            Ok(record) => readable.push((line, record)),
            Err(error) => file
                .errors
                .push(ImportError::row(line, format!("Unreadable row: {error}"))),
        }
    }
    if file.row_count == 0 && header.is_some() {
        file.errors.push(ImportError::row(
            1,
            "The file has a header but no rows".to_owned(),
        ));
    }
    let Some(header) = header else {
        return file;
    };
    let total = readable.len();
    for (done, (line, record)) in readable.iter().enumerate() {
        if let Some(row) = read_row(*line, record, &header, &mut file) {
            file.rows.push(row);
        }
        if (done + 1) % PROGRESS_EVERY == 0 || done + 1 == total {
            progress(ImportProgress::Checking {
                done: done + 1,
                total,
            });
        }
    }
    file
}

/// How many rows are checked between two progress reports.
const PROGRESS_EVERY: usize = 100;

fn all_columns() -> String {
    REQUIRED_COLUMNS
        .iter()
        .chain(OPTIONAL_COLUMNS.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The header's columns, or `None` (with errors) when the rows cannot be read by it.
fn read_header(record: &csv::ByteRecord, errors: &mut Vec<ImportError>) -> Option<Header> {
    let before = errors.len();
    let mut positions = HashMap::new();
    for (position, cell) in record.iter().enumerate() {
        let name = String::from_utf8_lossy(cell).trim().to_lowercase();
        if name.is_empty() && record.len() == 1 {
            errors.push(ImportError::row(
                1,
                format!("The first line must name the columns {}", all_columns()),
            ));
            continue;
        }
        let known = REQUIRED_COLUMNS
            .iter()
            .chain(OPTIONAL_COLUMNS.iter())
            .find(|column| **column == name);
        match known {
            Some(column) if positions.contains_key(column) => errors.push(ImportError::cell(
                1,
                column,
                "This column appears twice in the header".to_owned(),
            )),
            Some(column) => {
                positions.insert(*column, position);
            }
            None => errors.push(ImportError::row(
                1,
                format!("Unknown column {name:?}: the columns are {}", all_columns()),
            )),
        }
    }
    for column in REQUIRED_COLUMNS {
        if !positions.contains_key(column) {
            errors.push(ImportError::cell(
                1,
                column,
                "This required column is missing from the header".to_owned(),
            ));
        }
    }
    (errors.len() == before).then_some(Header {
        positions,
        width: record.len(),
    })
}

fn read_row(
    line: u64,
    record: &csv::ByteRecord,
    header: &Header,
    file: &mut ParsedFile,
) -> Option<ParsedRow> {
    let ParsedFile {
        emails,
        managers,
        errors,
        ..
    } = file;
    if record.len() != header.width {
        errors.push(ImportError::row(
            line,
            format!(
                "This row has {} fields where the header has {}",
                record.len(),
                header.width
            ),
        ));
        return None;
    }
    let before = errors.len();
    let mut cell = |column: &'static str| -> Option<String> {
        let position = *header.positions.get(column)?;
        let bytes = record.get(position)?;
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains('\0') => {
                errors.push(ImportError::cell(
                    line,
                    column,
                    "must not contain NUL characters".to_owned(),
                ));
                None
            }
            Ok(text) => Some(text.to_owned()),
            Err(_) => {
                errors.push(ImportError::cell(
                    line,
                    column,
                    "is not valid UTF-8 text".to_owned(),
                ));
                None
            }
        }
    };
    let email_cell = cell("email");
    let first_name_cell = cell("first_name");
    let last_name_cell = cell("last_name");
    let role_cell = cell("role");
    let department_cell = cell("department");
    let manager_cell = cell("manager_email");

    let email =
        email_cell.and_then(|value| checked(line, "email", errors, validate::email(&value)));
    let email = email.and_then(|email| match emails.get(&email) {
        Some(first) => {
            errors.push(ImportError::cell(
                line,
                "email",
                format!("{email} already appears on line {first}"),
            ));
            None
        }
        None => {
            emails.insert(email.clone(), line);
            Some(email)
        }
    });
    let first_name = first_name_cell.and_then(|value| {
        checked(
            line,
            "first_name",
            errors,
            validate::name("first_name", &value),
        )
    });
    let last_name = last_name_cell.and_then(|value| {
        checked(
            line,
            "last_name",
            errors,
            validate::name("last_name", &value),
        )
    });
    let role = role_cell.and_then(|value| {
        let word = value.trim().to_lowercase();
        match Role::parse(&word).filter(|role| role.is_tenant_role()) {
            Some(role) => Some(role),
            None => {
                errors.push(ImportError::cell(
                    line,
                    "role",
                    format!("{word:?} is not a role: use tenant_manager, lead or employee"),
                ));
                None
            }
        }
    });
    let department = department_cell
        .filter(|value| !value.trim().is_empty())
        .and_then(|value| {
            checked(
                line,
                "department",
                errors,
                validate::name("department", &value),
            )
        });
    let manager_email = manager_cell
        .filter(|value| !value.trim().is_empty())
        .and_then(|value| checked(line, "manager_email", errors, validate::email(&value)));
    if let Some(manager) = &manager_email {
        managers.push((line, manager.clone()));
    }
    if let (Some(email), Some(manager)) = (&email, &manager_email) {
        if email == manager {
            errors.push(ImportError::cell(
                line,
                "manager_email",
                "A user cannot manage themselves".to_owned(),
            ));
        }
    }
    if errors.len() != before {
        return None;
    }
    Some(ParsedRow {
        email: email?,
        first_name: first_name?,
        last_name: last_name?,
        role: role?,
        department,
        manager_email,
    })
}

/// The validator's value, or its refusal recorded against the cell.
fn checked(
    line: u64,
    column: &'static str,
    errors: &mut Vec<ImportError>,
    result: Result<String, perksu_domain::Error>,
) -> Option<String> {
    result
        .map_err(|error| errors.push(ImportError::cell(line, column, error.detail)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_quietly(csv: &[u8]) -> ParsedFile {
        parse(csv, &|_| {})
    }

    #[test]
    fn lines_count_the_header_and_quoted_line_breaks() {
        let file = parse_quietly(
            b"email,first_name,last_name,role\n\
              a@x.test,\"Ann\nMarie\",Lee,employee\n\
              bad,Bo,Ng,employee\n",
        );
        assert_eq!(file.row_count, 2);
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.errors[0].line, 4);
        assert_eq!(file.errors[0].column, Some("email"));
    }

    #[test]
    fn a_header_without_a_required_column_is_refused_by_column() {
        let file = parse_quietly(b"email,first_name,role,shoe_size\n");
        let columns: Vec<_> = file.errors.iter().map(|e| e.column).collect();
        assert_eq!(columns, vec![None, Some("last_name")]);
    }
}
