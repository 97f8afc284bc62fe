//! Wire formats shared by the handlers: amounts in and out, pages, timestamps.

use perksu_domain::{AmountError, Error, Points};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// An amount as a client sends it: a JSON number (`1000`, `12.5`) or a decimal string
/// (`"1000"`). Parsed exactly, never through a float: a number is read from its own text.
#[derive(Clone, Debug, Deserialize)]
#[serde(transparent)]
pub struct AmountField(Box<RawValue>);

/// The amounts a client may send, as the document states them: a decimal string or a JSON
/// number, never negative, at most two decimals and at most [`Points::MAX`]. A field that
/// must be positive also refuses zero, with a 400.
impl utoipa::PartialSchema for AmountField {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(AMOUNT_PATTERN))
            .examples(["1000", "12.50"]);
        let number = ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0))
            .maximum(Some(MAX_AMOUNT));
        AnyOfBuilder::new()
            .item(text)
            .item(number)
            .description(Some(
                "A decimal string or a JSON number: not negative, at most two decimals, at most \
                 9999999999999.99.",
            ))
            .into()
    }
}

impl ToSchema for AmountField {}

/// A decimal string of at most 13 whole digits and 2 decimals: what `Points::parse` reads.
pub(crate) const AMOUNT_PATTERN: &str = r"^[0-9]{1,13}(\.[0-9]{1,2})?$";
/// [`Points::MAX`] as a JSON number.
const MAX_AMOUNT: f64 = 9_999_999_999_999.99;

impl AmountField {
    fn parse(&self, field: &str) -> Result<Points, Error> {
        let raw = self.0.get();
        let parsed = if raw.starts_with('"') {
            match serde_json::from_str::<String>(raw) {
                Ok(text) => Points::parse(&text).map_err(|e| match e {
                    // A string with a minus sign is a negative amount, not garbage.
                    AmountError::NotANumber if text.trim_start().starts_with('-') => {
                        AmountError::Negative
                    }
                    other => other,
                }),
                Err(_) => Err(AmountError::NotANumber),
            }
        } else if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Points::parse_json_number(raw)
        } else {
            Err(AmountError::NotANumber)
        };
        parsed.map_err(|e| Error::amount(field, e))
    }

    fn is_null(&self) -> bool {
        self.0.get() == "null"
    }

    /// A strictly positive amount.
    pub fn positive(&self, field: &str) -> Result<Points, Error> {
        let points = self.parse(field)?;
        if points.is_zero() {
            return Err(Error::amount(field, AmountError::NotPositive));
        }
        Ok(points)
    }

    /// Zero or more.
    pub fn non_negative(&self, field: &str) -> Result<Points, Error> {
        self.parse(field)
    }
}

/// An optional positive amount: absent or null means "all of it".
pub fn optional_positive(
    field: &str,
    value: &Option<AmountField>,
) -> Result<Option<Points>, Error> {
    match value {
        None => Ok(None),
        Some(amount) if amount.is_null() => Ok(None),
        Some(amount) => amount.positive(field).map(Some),
    }
}

/// The canonical string form of an amount.
pub fn amount(points: Points) -> String {
    points.to_string()
}

/// A page of a listing.
#[derive(Serialize, ToSchema)]
pub struct PageBody<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<T: ToSchema> PageBody<T> {
    pub fn from_page<R>(page: perksu_store::Page<R>, map: impl Fn(R) -> T) -> PageBody<T> {
        PageBody {
            items: page.items.into_iter().map(map).collect(),
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

/// A closed-set word (role, status, mode) from a request, or a 400 listing the accepted ones.
pub fn parse_word<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    expected: String,
) -> Result<T, Error> {
    parse(value).ok_or_else(|| {
        Error::invalid(
            "invalid_field",
            format!("{field} must be one of: {expected}"),
        )
    })
}

/// One CSV field: quoted when it holds a separator, a quote or a line break, and prefixed with
/// `'` when it starts like a spreadsheet formula, so an exported name cannot run as one.
pub fn csv_field(value: &str) -> String {
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

/// An optional date (`2026-02-01`) or RFC 3339 time from a query string, or a 400 naming it.
pub fn time_filter(
    field: &str,
    value: Option<&str>,
) -> Result<Option<perksu_store::Timestamp>, Error> {
    value
        .map(|text| {
            perksu_store::Timestamp::parse_filter(text).ok_or_else(|| {
                Error::invalid(
                    "invalid_date",
                    format!("{field} must be a date (YYYY-MM-DD) or an RFC 3339 time"),
                )
            })
        })
        .transpose()
}
