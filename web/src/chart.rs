//! The sales-per-day chart of the organizer's dashboard: bars drawn as inline SVG in Rust (like
//! the QR codes), one per day from the first sale to the last, with labelled axes.
//!
//! Bars show revenue; for an event whose sales are all free tickets (revenue 0) they show tickets,
//! so the chart still says something. Each bar has a tooltip (`<title>`) with the day's orders,
//! tickets and amount.

use std::fmt::Write;

use api_types::back_office::DaySales;
use dioxus::prelude::*;

use crate::format;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 76.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;
/// At most this many date labels under the bars; the others are skipped evenly.
const MAX_X_LABELS: usize = 8;
/// Horizontal grid lines above zero.
const Y_TICKS: i64 = 4;

/// What the bars measure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Metric {
    /// Minor units of the event's currency.
    Revenue,
    Tickets,
}

impl Metric {
    fn of(days: &[DaySales]) -> Metric {
        if !days.is_empty() && days.iter().all(|d| d.amount_minor <= 0) {
            Metric::Tickets
        } else {
            Metric::Revenue
        }
    }

    fn value(self, d: &DaySales) -> i64 {
        match self {
            Metric::Revenue => d.amount_minor.max(0),
            Metric::Tickets => i64::try_from(d.tickets).unwrap_or(i64::MAX),
        }
    }

    /// The smallest step between grid lines: one whole currency unit, or one ticket.
    fn min_step(self) -> i64 {
        match self {
            Metric::Revenue => 100,
            Metric::Tickets => 1,
        }
    }
}

/// A round step (1, 2 or 5 times a power of ten, at least `min_step`) so that `ticks` steps
/// cover `max`.
fn nice_step(max: i64, ticks: i64, min_step: i64) -> i64 {
    let raw = ((max + ticks - 1) / ticks).max(min_step).max(1);
    let mut magnitude = 1i64;
    while magnitude.saturating_mul(10) <= raw {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(raw)
}

/// Label every n-th day so that at most `MAX_X_LABELS` labels fit under `days` bars.
fn label_every(days: usize) -> usize {
    days.div_ceil(MAX_X_LABELS).max(1)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The chart as an SVG document; `days` are consecutive (see `EventSummary::sales_every_day`).
pub fn sales_svg(days: &[DaySales], currency: &str) -> String {
    let metric = Metric::of(days);
    let max = days.iter().map(|d| metric.value(d)).max().unwrap_or(0);
    let step = nice_step(max, Y_TICKS, metric.min_step());
    let top_value = (max.div_euclid(step) + i64::from(max % step != 0)).max(1) * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    let y_of = |v: i64| base - plot_h * (v as f64 / top_value as f64);
    let tick_label = |v: i64| match metric {
        Metric::Revenue => format::money_short(v, currency),
        Metric::Tickets => v.to_string(),
    };
    let (y_title, what) = match metric {
        Metric::Revenue => (format!("Revenue ({currency})"), "revenue"),
        Metric::Tickets => ("Tickets".to_string(), "tickets"),
    };
    let description = match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!(
            "Daily {what} from {} to {}; the highest day: {}.",
            format::day_long(first.date),
            format::day_long(last.date),
            tick_label(max)
        ),
        _ => "No paid orders yet.".to_string(),
    };

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="sales-chart-title sales-chart-desc" data-testid="sales-chart" data-days="{}">"#,
        days.len()
    );
    let _ = write!(
        svg,
        r#"<title id="sales-chart-title">Sales per day</title><desc id="sales-chart-desc">{}</desc>"#,
        escape(&description)
    );
    // Grid lines and the y axis labels.
    let mut v = 0;
    while v <= top_value {
        let y = y_of(v);
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="chart-label" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 8.0,
            y + 4.0,
            escape(&tick_label(v))
        );
        v += step;
    }
    // Bars, with a label under every n-th day.
    if days.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="chart-empty" x="{:.1}" y="{:.1}" text-anchor="middle">No paid orders yet</text>"#,
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        );
    }
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = (slot * 0.7).min(48.0);
    let every = label_every(days.len());
    for (i, d) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let y = y_of(metric.value(d));
        let tip = format!(
            "{}: {}, {}, {}",
            format::day_long(d.date),
            plural(d.orders, "order"),
            plural(d.tickets, "ticket"),
            format::money(d.amount_minor, currency)
        );
        let _ = write!(
            svg,
            r#"<rect class="chart-bar" data-testid="sales-bar" data-date="{}" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{:.1}"><title>{}</title></rect>"#,
            d.date,
            base - y,
            escape(&tip)
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + bar_w / 2.0,
                base + 18.0,
                escape(&format::day(d.date))
            );
        }
    }
    // Axes and their titles.
    let _ = write!(
        svg,
        r#"<line class="chart-axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base}"/><line class="chart-axis" x1="{LEFT}" x2="{}" y1="{base}" y2="{base}"/>"#,
        WIDTH - RIGHT
    );
    let _ = write!(
        svg,
        r#"<text class="chart-title" x="{:.1}" y="{}" text-anchor="middle">Day of payment (UTC)</text><text class="chart-title" transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text></svg>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 8.0,
        TOP + plot_h / 2.0,
        escape(&y_title)
    );
    svg
}

/// The chart of `days` (consecutive, possibly none) in `currency`.
#[component]
pub fn SalesChart(days: Vec<DaySales>, currency: String) -> Element {
    let svg = sales_svg(&days, &currency);
    rsx! {
        div { class: "chart", dangerous_inner_html: "{svg}" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, orders: u64, tickets: u64, amount_minor: i64) -> DaySales {
        DaySales {
            date: date.parse().unwrap(),
            orders,
            tickets,
            amount_minor,
        }
    }

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn grid_steps_are_round_and_cover_the_highest_value() {
        assert_eq!(nice_step(0, 4, 100), 100);
        assert_eq!(nice_step(5100, 4, 100), 2000);
        assert_eq!(nice_step(40_000, 4, 100), 10_000);
        assert_eq!(nice_step(123_456, 4, 100), 50_000);
        assert_eq!(nice_step(7, 4, 1), 2);
        assert_eq!(nice_step(3, 4, 1), 1);
    }

    #[test]
    fn at_most_eight_days_are_labelled() {
        assert_eq!(label_every(0), 1);
        assert_eq!(label_every(1), 1);
        assert_eq!(label_every(8), 1);
        assert_eq!(label_every(9), 2);
        assert_eq!(label_every(60), 8);
    }

    #[test]
    fn no_days_draw_the_axes_and_say_there_are_no_sales() {
        let svg = sales_svg(&[], "EUR");
        assert_eq!(count(&svg, "data-testid=\"sales-bar\""), 0);
        assert!(svg.contains("No paid orders yet"));
        assert!(svg.contains("Revenue (EUR)"));
        assert_eq!(count(&svg, "class=\"chart-axis\""), 2);
    }

    #[test]
    fn one_day_draws_one_labelled_bar_up_to_the_top_grid_line_at_most() {
        let svg = sales_svg(&[day("2030-05-01", 2, 3, 7650)], "USD");
        assert_eq!(count(&svg, "data-testid=\"sales-bar\""), 1);
        assert!(svg.contains(">May 1<"));
        assert!(svg.contains("May 1, 2030: 2 orders, 3 tickets, $76.50"));
        // Steps of $20 up to $80: the grid is labelled 0, 20, 40, 60, 80 dollars.
        for label in ["$0<", "$20<", "$40<", "$60<", "$80<"] {
            assert!(svg.contains(label), "{label} missing in {svg}");
        }
        assert!(svg.contains("Revenue (USD)"));
    }

    #[test]
    fn sixty_days_draw_sixty_bars_and_eight_date_labels() {
        let start: chrono::NaiveDate = "2030-03-01".parse().unwrap();
        let days: Vec<DaySales> = (0..60)
            .map(|i| DaySales {
                date: start + chrono::Days::new(i),
                orders: i,
                tickets: i * 2,
                amount_minor: i as i64 * 1000,
            })
            .collect();
        let svg = sales_svg(&days, "GBP");
        assert_eq!(count(&svg, "data-testid=\"sales-bar\""), 60);
        assert_eq!(
            count(&svg, "text-anchor=\"middle\">Mar") + count(&svg, "text-anchor=\"middle\">Apr"),
            8
        );
        assert!(svg.contains("data-days=\"60\""));
    }

    #[test]
    fn free_tickets_are_charted_as_tickets() {
        let svg = sales_svg(&[day("2030-05-01", 4, 9, 0)], "USD");
        assert!(svg.contains(">Tickets<"));
        assert!(!svg.contains("Revenue"));
        assert!(svg.contains("4 orders, 9 tickets, $0.00"));
    }

    #[test]
    fn text_from_the_server_is_escaped() {
        let svg = sales_svg(&[day("2030-05-01", 1, 1, 100)], "<b>");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;"));
    }
}
