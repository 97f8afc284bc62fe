//! The bulk allocation form as sent: its rows and pasted lines read into the tenants and
//! amounts asked for, in order.

use perksu_domain::Error;

/// Blank rows offered below the filled ones; longer lists go in the pasted lines.
const SPARE_ROWS: usize = 2;
const FEWEST_ROWS: usize = 3;
/// The header line a pasted list may start with.
const CSV_HEADER: &str = "tenant_slug,amount";

/// The form as typed, so a dry run or a refusal shows it again.
#[derive(Default)]
pub struct BulkForm {
    /// `(tenant slug, amount)` per row, blank rows included.
    rows: Vec<(String, String)>,
    pub lines: String,
    pub note: String,
    /// `check` for a dry run, `commit` to allocate.
    pub intent: String,
    pub form_key: String,
}

impl BulkForm {
    /// Rows and amounts come as repeated `tenant` and `amount` fields, one pair per row.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> BulkForm {
        let mut form = BulkForm::default();
        let (mut tenants, mut amounts) = (Vec::new(), Vec::new());
        for (name, value) in pairs {
            match name.as_str() {
                "tenant" => tenants.push(value),
                "amount" => amounts.push(value),
                "lines" => form.lines = value,
                "note" => form.note = value,
                "intent" => form.intent = value,
                "form_key" => form.form_key = value,
                _ => {}
            }
        }
        amounts.resize(tenants.len().max(amounts.len()), String::new());
        tenants.resize(amounts.len(), String::new());
        form.rows = tenants.into_iter().zip(amounts).collect();
        form
    }

    /// Every tenant and amount asked for, rows first, then the pasted lines, in order.
    pub fn requested(&self) -> Result<Vec<(String, String)>, Error> {
        let mut requested: Vec<(String, String)> = self
            .rows
            .iter()
            .filter(|(tenant, amount)| !tenant.trim().is_empty() || !amount.trim().is_empty())
            .map(|(tenant, amount)| (tenant.trim().to_lowercase(), amount.trim().to_owned()))
            .collect();
        for (index, line) in self.lines.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || (index == 0 && line.eq_ignore_ascii_case(CSV_HEADER)) {
                continue;
            }
            let (tenant, amount) = line.split_once(',').ok_or_else(|| {
                Error::invalid(
                    "invalid_line",
                    format!("Line {} must read tenant_slug,amount", index + 1),
                )
            })?;
            requested.push((tenant.trim().to_lowercase(), amount.trim().to_owned()));
        }
        Ok(requested)
    }

    /// The rows to draw: those typed, then a few blank ones.
    pub fn rows_to_show(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = self
            .rows
            .iter()
            .filter(|(tenant, amount)| !tenant.trim().is_empty() || !amount.trim().is_empty())
            .cloned()
            .collect();
        let wanted = (rows.len() + SPARE_ROWS).max(FEWEST_ROWS);
        rows.resize(wanted, (String::new(), String::new()));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn rows_come_first_then_the_pasted_lines_without_their_header() {
        let form = BulkForm::from_pairs(pairs(&[
            ("tenant", "Acme"),
            ("amount", " 500 "),
            ("tenant", ""),
            ("amount", ""),
            ("lines", "tenant_slug,amount\r\n\r\nbeta, 250.5\n"),
        ]));
        let requested = form.requested().unwrap_or_default();
        assert_eq!(
            requested,
            vec![
                ("acme".to_owned(), "500".to_owned()),
                ("beta".to_owned(), "250.5".to_owned())
            ]
        );
        assert_eq!(form.rows_to_show().len(), 3);
    }

    #[test]
    fn a_line_without_a_comma_is_refused_with_its_number() {
        let form = BulkForm::from_pairs(pairs(&[("lines", "acme,1\nbeta 2")]));
        let refusal = form.requested().err().map(|error| error.detail);
        assert_eq!(
            refusal.as_deref(),
            Some("Line 2 must read tenant_slug,amount")
        );
    }
}
