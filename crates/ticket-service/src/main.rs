#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("ticket_service");
    let config = ticket_service::TicketConfig::from_env()?;
    ticket_service::run(config).await
}
