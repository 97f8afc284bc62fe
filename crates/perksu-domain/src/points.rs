//! `Points`: an amount of points, held as integer hundredths with checked arithmetic.
//!
//! Every amount that enters the system is parsed here exactly once. Nothing in the service ever
//! touches a float: a JSON number is handled through its decimal text.

use std::fmt;

use crate::error::AmountError;

/// Hundredths in one point.
const SCALE: i64 = 100;

/// An amount of points with two decimals, stored as hundredths.
///
/// Invariant: `0 <= hundredths <= Points::MAX.hundredths()` for any value that came from
/// `parse_*`; balances built with `checked_add` keep the same bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

impl Points {
    pub const ZERO: Points = Points(0);
    /// The largest amount a balance or a movement can hold: 9 999 999 999 999.99 points,
    /// the spec's `Numeric(15, 2)`.
    pub const MAX: Points = Points(999_999_999_999_999);

    /// Wraps stored hundredths. Used by the storage layer, which only reads what it wrote.
    pub const fn from_hundredths(hundredths: i64) -> Points {
        Points(hundredths)
    }

    pub const fn from_whole(points: i64) -> Points {
        Points(points * SCALE)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Points) -> Option<Points> {
        let sum = self.0.checked_add(other.0)?;
        (sum <= Self::MAX.0).then_some(Points(sum))
    }

    pub fn checked_sub(self, other: Points) -> Option<Points> {
        let difference = self.0.checked_sub(other.0)?;
        (difference >= 0).then_some(Points(difference))
    }

    /// Parses decimal text such as `"50000"`, `"12.5"` or `"0.01"`: digits, an optional point
    /// and at most two decimals. No sign, exponent or white space. Zero is allowed here; the
    /// callers that need a positive amount use [`Points::parse_positive`].
    pub fn parse(text: &str) -> Result<Points, AmountError> {
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(AmountError::NotANumber);
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        if fraction.len() > 2 {
            return Err(AmountError::TooPrecise);
        }
        let whole = whole.trim_start_matches('0');
        // 13 digits is the widest whole part of `MAX`; anything longer overflows.
        if whole.len() > 13 {
            return Err(AmountError::TooLarge);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::NotANumber)?
        };
        let mut cents: i64 = 0;
        for (position, digit) in fraction.bytes().enumerate() {
            let weight = if position == 0 { 10 } else { 1 };
            cents += i64::from(digit - b'0') * weight;
        }
        let hundredths = whole
            .checked_mul(SCALE)
            .and_then(|h| h.checked_add(cents))
            .ok_or(AmountError::TooLarge)?;
        if hundredths > Self::MAX.0 {
            return Err(AmountError::TooLarge);
        }
        Ok(Points(hundredths))
    }

    /// Parses the text of a JSON number, which may carry a sign or an exponent
    /// (`1e3`, `-5`, `2.50`). The value must still be exact to the hundredth.
    pub fn parse_json_number(text: &str) -> Result<Points, AmountError> {
        if let Some(unsigned) = text.strip_prefix('-') {
            let magnitude = Self::parse_json_number(unsigned)?;
            return if magnitude.is_zero() {
                Ok(Points::ZERO)
            } else {
                Err(AmountError::Negative)
            };
        }
        let (mantissa, exponent) = match text.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => {
                let exponent: i32 = exponent
                    .trim_start_matches('+')
                    .parse()
                    .map_err(|_| AmountError::NotANumber)?;
                (mantissa, exponent)
            }
            None => (text, 0),
        };
        if exponent == 0 {
            return Self::parse(mantissa);
        }
        if !(-40..=40).contains(&exponent) {
            return Err(if exponent > 0 {
                AmountError::TooLarge
            } else {
                AmountError::TooPrecise
            });
        }
        Self::parse(&shift_decimal_point(mantissa, exponent)?)
    }

    /// Like [`Points::parse`], and refuses zero.
    pub fn parse_positive(text: &str) -> Result<Points, AmountError> {
        let points = Self::parse(text)?;
        if points.is_zero() {
            return Err(AmountError::NotPositive);
        }
        Ok(points)
    }
}

/// Moves the decimal point of `mantissa` by `exponent` places, giving plain decimal text.
fn shift_decimal_point(mantissa: &str, exponent: i32) -> Result<String, AmountError> {
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::NotANumber);
    }
    let point_at = whole.len() as i64 + i64::from(exponent);
    let text = if point_at <= 0 {
        format!(
            "0.{}{}",
            "0".repeat(point_at.unsigned_abs() as usize),
            digits
        )
    } else if point_at as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point_at as usize - digits.len()))
    } else {
        let (left, right) = digits.split_at(point_at as usize);
        format!("{left}.{right}")
    };
    Ok(trim_fraction_zeros(&text))
}

/// `"12.500"` → `"12.5"`, `"3.00"` → `"3"`: trailing zeros carry no precision.
fn trim_fraction_zeros(text: &str) -> String {
    if !text.contains('.') {
        return text.to_owned();
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The canonical wire form: no exponent, no trailing zeros, no point when integral.
impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let whole = magnitude / SCALE as u64;
        let cents = magnitude % SCALE as u64;
        match cents {
            0 => write!(f, "{sign}{whole}"),
            c if c % 10 == 0 => write!(f, "{sign}{whole}.{}", c / 10),
            c => write!(f, "{sign}{whole}.{c:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_text_has_no_trailing_zeros() {
        assert_eq!(Points::from_hundredths(5_000_000).to_string(), "50000");
        assert_eq!(Points::from_hundredths(1250).to_string(), "12.5");
        assert_eq!(Points::from_hundredths(1).to_string(), "0.01");
        assert_eq!(Points::from_hundredths(-1205).to_string(), "-12.05");
        assert_eq!(Points::ZERO.to_string(), "0");
    }

    #[test]
    fn parse_accepts_plain_decimals_up_to_two_places() {
        assert_eq!(Points::parse("50000"), Ok(Points::from_whole(50000)));
        assert_eq!(Points::parse("12.5"), Ok(Points::from_hundredths(1250)));
        assert_eq!(Points::parse("0.01"), Ok(Points::from_hundredths(1)));
        assert_eq!(Points::parse("007.10"), Ok(Points::from_hundredths(710)));
    }

    #[test]
    fn parse_refuses_what_is_not_an_exact_amount() {
        assert_eq!(Points::parse("1.234"), Err(AmountError::TooPrecise));
        assert_eq!(Points::parse("-5"), Err(AmountError::NotANumber));
        assert_eq!(Points::parse(""), Err(AmountError::NotANumber));
        assert_eq!(Points::parse("1."), Err(AmountError::NotANumber));
        assert_eq!(Points::parse(".5"), Err(AmountError::NotANumber));
        assert_eq!(Points::parse("1e3"), Err(AmountError::NotANumber));
        assert_eq!(Points::parse(" 1"), Err(AmountError::NotANumber));
        assert_eq!(Points::parse("NaN"), Err(AmountError::NotANumber));
        assert_eq!(Points::parse("10000000000000"), Err(AmountError::TooLarge));
        assert_eq!(
            Points::parse_positive("0.00"),
            Err(AmountError::NotPositive)
        );
    }

    #[test]
    fn the_largest_amount_parses_and_one_hundredth_more_does_not() {
        assert_eq!(Points::parse("9999999999999.99"), Ok(Points::MAX));
        assert_eq!(Points::MAX.checked_add(Points::from_hundredths(1)), None);
    }

    #[test]
    fn json_numbers_with_exponents_are_exact_or_refused() {
        assert_eq!(
            Points::parse_json_number("1e3"),
            Ok(Points::from_whole(1000))
        );
        assert_eq!(
            Points::parse_json_number("1.5E1"),
            Ok(Points::from_whole(15))
        );
        assert_eq!(
            Points::parse_json_number("25e-2"),
            Ok(Points::from_hundredths(25))
        );
        assert_eq!(
            Points::parse_json_number("1e-3"),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(Points::parse_json_number("-5"), Err(AmountError::Negative));
        assert_eq!(
            Points::parse_json_number("1e300"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            Points::parse_json_number("10.0"),
            Ok(Points::from_whole(10))
        );
    }

    #[test]
    fn subtraction_never_goes_below_zero() {
        assert_eq!(
            Points::from_whole(1).checked_sub(Points::from_whole(2)),
            None
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(hundredths in 0..=Points::MAX.hundredths()) {
            let points = Points::from_hundredths(hundredths);
            prop_assert_eq!(Points::parse(&points.to_string()), Ok(points));
        }
    }
}
