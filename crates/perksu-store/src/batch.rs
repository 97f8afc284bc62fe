//! Multi-row inserts: one statement for many rows, so a bulk write costs a few round trips
//! instead of one per row.

/// How many rows one multi-row insert carries. Kept well under both backends' limits on bound
/// parameters (SQLite 32 766, PostgreSQL 65 535) for rows of up to 60 parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// `rows` copies of `row` joined by commas, each `?` in them replaced by the next numbered
/// placeholder (`$1`, `$2`, ...), for `insert ... values {this}`.
pub(crate) fn values_list(row: &str, rows: usize) -> String {
    let mut out = String::with_capacity((row.len() + 8) * rows);
    let mut next = 1;
    for index in 0..rows {
        if index > 0 {
            out.push_str(", ");
        }
        for character in row.chars() {
            if character == '?' {
                out.push('$');
                out.push_str(&next.to_string());
                next += 1;
            } else {
                out.push(character);
            }
        }
    }
    out
}

/// `$first, $first+1, ...`: `count` numbered placeholders, for `in (...)` lists.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(
            values_list("(?, 'x', ?)", 2),
            "($1, 'x', $2), ($3, 'x', $4)"
        );
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }
}
