//! Bar charts drawn on the server as inline SVG: no script, no image request. Each chart has a
//! title and a description for screen readers, a tooltip per bar, and the page shows the same
//! numbers as a table beside it.
//!
//! Bar lengths are computed in integer hundredths, like every other amount.

use perksu_domain::Points;

use crate::format::points;

/// One bar: what it stands for and how much.
pub struct Bar {
    pub label: String,
    pub value: Points,
}

const WIDTH: i64 = 640;
/// Longest label drawn in a horizontal chart; the table beside it has the full name.
const MAX_ROW_LABEL_CHARS: usize = 22;

/// Text made safe for SVG content and attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `value` scaled to `length` against `largest`, at least 1 when the value is above zero.
fn scaled(value: Points, largest: Points, length: i64) -> i64 {
    if largest.is_zero() || value.is_zero() {
        return 0;
    }
    let length =
        i128::from(value.hundredths()) * i128::from(length) / i128::from(largest.hundredths());
    i64::try_from(length).unwrap_or(0).max(1)
}

fn largest(bars: &[Bar]) -> Points {
    bars.iter()
        .map(|bar| bar.value)
        .max()
        .unwrap_or(Points::ZERO)
}

fn opening(id: &str, title: &str, description: &str, height: i64) -> String {
    format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"{id}-title \
         {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-title\">{}</title>\
         <desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(description),
    )
}

/// Vertical bars left to right, one per period, labelled below (every few bars when there
/// are many).
pub fn columns(id: &str, title: &str, description: &str, unit: &str, bars: &[Bar]) -> String {
    const HEIGHT: i64 = 260;
    const TOP: i64 = 24;
    const BOTTOM: i64 = 36;
    const SIDE: i64 = 8;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let count = i64::try_from(bars.len()).unwrap_or(i64::MAX).max(1);
    let slot = (WIDTH - 2 * SIDE) / count;
    let bar_width = (slot * 7 / 10).max(1);
    let label_every = usize::try_from((count + 9) / 10).unwrap_or(1).max(1);
    let show_values = count <= 12;
    let top = largest(bars);
    let mut svg = opening(id, title, description, HEIGHT);
    let baseline = TOP + plot_height;
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{SIDE}\" y1=\"{baseline}\" x2=\"{}\" y2=\"{baseline}\"/>",
        WIDTH - SIDE
    ));
    for (index, bar) in bars.iter().enumerate() {
        let position = i64::try_from(index).unwrap_or(0);
        let height = scaled(bar.value, top, plot_height);
        let x = SIDE + position * slot + (slot - bar_width) / 2;
        let centre = x + bar_width / 2;
        let value = points(bar.value);
        svg.push_str(&format!(
            "<rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{bar_width}\" height=\"{height}\">\
             <title>{}: {} {}</title></rect>",
            baseline - height,
            escape(&bar.label),
            value,
            escape(unit),
        ));
        if show_values && !bar.value.is_zero() {
            svg.push_str(&format!(
                "<text class=\"value\" x=\"{centre}\" y=\"{}\" text-anchor=\"middle\">{value}</text>",
                baseline - height - 6,
            ));
        }
        if index % label_every == 0 {
            svg.push_str(&format!(
                "<text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                baseline + 18,
                escape(&bar.label),
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars top to bottom, one per name, with the value at the end of each bar.
pub fn rows(id: &str, title: &str, description: &str, unit: &str, bars: &[Bar]) -> String {
    const ROW: i64 = 30;
    const LABEL_WIDTH: i64 = 170;
    const VALUE_WIDTH: i64 = 90;
    let count = i64::try_from(bars.len()).unwrap_or(i64::MAX).max(1);
    let height = count * ROW + 8;
    let plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let top = largest(bars);
    let mut svg = opening(id, title, description, height);
    for (index, bar) in bars.iter().enumerate() {
        let y = 4 + i64::try_from(index).unwrap_or(0) * ROW;
        let length = scaled(bar.value, top, plot_width);
        let label: String = if bar.label.chars().count() > MAX_ROW_LABEL_CHARS {
            let mut short: String = bar.label.chars().take(MAX_ROW_LABEL_CHARS - 1).collect();
            short.push('…');
            short
        } else {
            bar.label.clone()
        };
        let value = points(bar.value);
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" x=\"{LABEL_WIDTH}\" y=\"{}\" width=\"{length}\" height=\"{}\">\
             <title>{}: {value} {}</title></rect>\
             <text class=\"value\" x=\"{}\" y=\"{}\">{value}</text>",
            LABEL_WIDTH - 8,
            y + ROW / 2 + 4,
            escape(&label),
            y + 4,
            ROW - 8,
            escape(&bar.label),
            escape(unit),
            LABEL_WIDTH + length + 6,
            y + ROW / 2 + 4,
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        vec![
            Bar {
                label: "R&D <core>".into(),
                value: Points::from_whole(300),
            },
            Bar {
                label: "Sales".into(),
                value: Points::from_whole(150),
            },
            Bar {
                label: "Legal".into(),
                value: Points::ZERO,
            },
        ]
    }

    #[test]
    fn bars_scale_to_the_largest_and_names_are_escaped() {
        let svg = rows(
            "d",
            "By department",
            "Awarded per department",
            "Points",
            &bars(),
        );
        assert!(svg.contains("R&amp;D &lt;core&gt;"));
        assert!(!svg.contains("<core>"));
        // The largest bar fills the plot; half the value, half the length; zero, nothing.
        assert!(svg.contains("width=\"380\""));
        assert!(svg.contains("width=\"190\""));
        assert!(svg.contains("width=\"0\""));
        assert!(svg.contains("role=\"img\""));
    }

    #[test]
    fn columns_stand_on_one_baseline() {
        let svg = columns("t", "Over time", "Awarded per day", "Points", &bars());
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 3);
    }
}
