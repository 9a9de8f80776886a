//! The message templates, one pair per kind under `templates/` (`<kind>.txt` holds the subject
//! and the plain-text body as blocks, `<kind>.html` the HTML body on a shared layout), compiled
//! into the binary and rendered with minijinja. HTML templates escape every value.

use std::sync::OnceLock;

use api_types::notifications::NotificationKind;
use chrono::{DateTime, Utc};
use minijinja::{Environment, Error, ErrorKind, Value};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const FILES: &[(&str, &str)] = templates![
    "layout.html",
    "macros.html",
    "macros.txt",
    "reasons.txt",
    "order_confirmed.txt",
    "order_confirmed.html",
    "payment_declined.txt",
    "payment_declined.html",
    "hold_expiring.txt",
    "hold_expiring.html",
    "order_cancelled.txt",
    "order_cancelled.html",
    "order_refunded.txt",
    "order_refunded.html",
    "event_cancelled.txt",
    "event_cancelled.html",
    "event_changed.txt",
    "event_changed.html",
    "waitlist_offered.txt",
    "waitlist_offered.html",
    "waitlist_closed.txt",
    "waitlist_closed.html",
];

/// A message's three texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in FILES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
        }
        env.add_filter("when", when);
        env.add_filter("time", time);
        env.add_filter("money", money);
        env
    })
}

fn parse_time(value: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("not a time: {e}")))
}

/// `Sunday 17 March 2030, 18:00 UTC`.
fn when(value: String) -> Result<String, Error> {
    Ok(parse_time(&value)?
        .format("%A %-d %B %Y, %H:%M UTC")
        .to_string())
}

/// `18:00 UTC`.
fn time(value: String) -> Result<String, Error> {
    Ok(parse_time(&value)?.format("%H:%M UTC").to_string())
}

/// A contract `Price` as `51.00 USD`: the exact decimal and the event's currency.
fn money(price: Value) -> Result<String, Error> {
    let decimal = price.get_attr("decimal")?;
    let currency = price.get_attr("currency")?;
    if decimal.is_undefined() || currency.is_undefined() {
        return Err(Error::new(ErrorKind::InvalidOperation, "not a price"));
    }
    Ok(format!("{decimal} {currency}"))
}

/// Renders `kind` with `context` (see `crate::letters` for what it holds).
pub fn render(kind: NotificationKind, context: &impl serde::Serialize) -> Result<Texts, Error> {
    let env = environment();
    let ctx = Value::from_serialize(context);
    let text = env.get_template(&format!("{}.txt", kind.as_str()))?;
    let mut rendered = text.render_captured(&ctx)?;
    let (subject, body) = rendered.with_state_mut(|state| {
        Ok::<_, Error>((state.render_block("subject")?, state.render_block("body")?))
    })?;
    let html = env
        .get_template(&format!("{}.html", kind.as_str()))?
        .render(&ctx)?;
    Ok(Texts {
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        text: body.trim().to_string() + "\n",
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_both_templates() {
        let env = environment();
        for kind in NotificationKind::ALL {
            for ext in ["txt", "html"] {
                assert!(
                    env.get_template(&format!("{}.{ext}", kind.as_str()))
                        .is_ok(),
                    "{kind:?} lacks its .{ext}"
                );
            }
        }
    }

    #[test]
    fn dates_and_money_are_written_for_people() {
        assert_eq!(
            when("2030-03-17T18:00:00Z".into()).unwrap(),
            "Sunday 17 March 2030, 18:00 UTC"
        );
        let price = Value::from_serialize(
            serde_json::json!({"minorUnits": 5100, "decimal": "51.00", "currency": "EUR"}),
        );
        assert_eq!(money(price).unwrap(), "51.00 EUR");
    }
}
