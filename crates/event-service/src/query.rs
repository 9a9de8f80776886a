//! The query string of `GET /api/events`, parsed by hand so every unknown or malformed parameter
//! is a JSON 400 naming it (axum's `Query` rejection is plain text and stops at the first).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use platform::FieldErrors;
use platform::query::QueryPairs;
use utoipa::IntoParams;

use crate::domain::{Category, city_key};
use crate::store::CatalogFilter;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
const KNOWN: [&str; 7] = ["category", "city", "q", "from", "to", "page", "limit"];

/// The query string of `GET /api/events` as documented; [`catalog_filter`] reads it by hand so
/// every bad parameter is named.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// One of the categories, any case.
    #[param(value_type = Option<Category>)]
    pub category: Option<String>,
    /// A substring of the title or description, any case (`%` and `_` are plain characters).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// The whole city name, any case, surrounding spaces ignored.
    #[param(max_length = 100, example = "Chicago")]
    pub city: Option<String>,
    /// Events starting at or after: a date (`2030-05-01`, from the start of that UTC day) or an
    /// RFC 3339 date and time.
    #[param(example = "2030-05-01")]
    pub from: Option<String>,
    /// Events starting at or before: a date (`2030-05-31`, to the end of that UTC day) or an RFC
    /// 3339 date and time; not before `from`.
    #[param(example = "2030-05-31T23:00:00Z")]
    pub to: Option<String>,
    /// The page, from 1; a page past the end is empty but still tells `total`.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u32>,
    /// Events per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
}

/// Parses `category`, `city`, `q`, `from`, `to`, `page`, `limit`. Empty values count as absent
/// (what an untouched form field sends).
pub fn catalog_filter(pairs: &[(String, String)]) -> Result<CatalogFilter, FieldErrors> {
    let mut errors = FieldErrors::new();
    let query = QueryPairs::check(pairs, &KNOWN, &mut errors);
    let value = |name: &str| query.value(name);
    let mut fail = |name: &str, message: String| {
        errors.entry(name.to_string()).or_default().push(message);
    };

    let mut filter = CatalogFilter {
        page: 1,
        limit: DEFAULT_LIMIT,
        ..CatalogFilter::default()
    };
    if let Some(raw) = value("category") {
        match Category::parse(raw) {
            Some(c) => filter.category = Some(c),
            None => fail(
                "category",
                format!("Unknown category; use one of: {}.", Category::list()),
            ),
        }
    }
    if let Some(raw) = value("city") {
        if raw.chars().count() > 100 {
            fail("city", "At most 100 characters.".into());
        } else {
            filter.city = Some(city_key(raw));
        }
    }
    if let Some(raw) = value("q") {
        if raw.chars().count() > 200 {
            fail("q", "At most 200 characters.".into());
        } else {
            filter.q = Some(raw.to_lowercase());
        }
    }
    if let Some(raw) = value("from") {
        match parse_bound(raw, Bound::Start) {
            Some(t) => filter.from = Some(t),
            None => fail("from", DATE_HINT.into()),
        }
    }
    if let Some(raw) = value("to") {
        match parse_bound(raw, Bound::End) {
            Some(t) => filter.to = Some(t),
            None => fail("to", DATE_HINT.into()),
        }
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        fail("to", "Must not be before `from`.".into());
    }
    if let Some(raw) = value("page") {
        match raw.parse::<u32>() {
            Ok(p) if p >= 1 => filter.page = p,
            _ => fail("page", "A whole number from 1.".into()),
        }
    }
    if let Some(raw) = value("limit") {
        match raw.parse::<u32>() {
            Ok(l) if (1..=MAX_LIMIT).contains(&l) => filter.limit = l,
            _ => fail("limit", format!("A whole number from 1 to {MAX_LIMIT}.")),
        }
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    }
}

const DATE_HINT: &str = "A date (2030-05-01) or an RFC 3339 date and time (2030-05-01T19:30:00Z).";

enum Bound {
    Start,
    End,
}

/// A bare date covers the whole day (UTC): `from` its first, `to` its last millisecond.
fn parse_bound(raw: &str, bound: Bound) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let time = match bound {
        Bound::Start => NaiveTime::MIN,
        Bound::End => NaiveTime::from_hms_milli_opt(23, 59, 59, 999)?,
    };
    Some(day.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<CatalogFilter, FieldErrors> {
        catalog_filter(&platform::query::pairs(q))
    }

    #[test]
    fn no_parameters_means_the_first_page_of_twenty() {
        let f = parse(&[]).unwrap();
        assert_eq!((f.page, f.limit), (1, 20));
        assert!(f.category.is_none() && f.city.is_none() && f.q.is_none());
    }

    #[test]
    fn empty_values_are_ignored() {
        let f = parse(&[("category", ""), ("q", "  ")]).unwrap();
        assert!(f.category.is_none() && f.q.is_none());
    }

    #[test]
    fn dates_cover_whole_days_and_instants_are_exact() {
        let f = parse(&[("from", "2030-05-01"), ("to", "2030-05-02")]).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2030-05-01T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2030-05-02T23:59:59.999+00:00");
        let f = parse(&[("from", "2030-05-01T10:00:00+02:00")]).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2030-05-01T08:00:00+00:00");
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let errors = parse(&[
            ("category", "opera"),
            ("from", "tomorrow"),
            ("page", "0"),
            ("limit", "101"),
            ("sort", "price"),
            ("q", "a"),
            ("q", "b"),
        ])
        .unwrap_err();
        let names: Vec<_> = errors.keys().map(String::as_str).collect();
        assert_eq!(names, ["category", "from", "limit", "page", "q", "sort"]);
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_rejected() {
        let errors = parse(&[("from", "2030-05-02"), ("to", "2030-05-01")]).unwrap_err();
        assert!(errors.contains_key("to"));
    }
}
