//! Process set-up: logging (readable lines locally, JSON lines when `LOG_FORMAT=json`) and the
//! metrics recorder behind `GET /metrics`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber and the metrics recorder (unless `METRICS=off`). `RUST_LOG` filters (default `info`); `LOG_FORMAT=json` switches
/// to one JSON object per line for log shippers. Safe to call more than once (tests).
pub fn init(service: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{service}=info")));
    let json = crate::config::var_or("LOG_FORMAT", "pretty").eq_ignore_ascii_case("json");
    // Colours only for a person at a terminal; `xtask up` pipes and prefixes the output.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.compact().try_init()
    };
    crate::metrics::install();
}
