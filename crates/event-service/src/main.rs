#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("event_service");
    let config = event_service::EventConfig::from_env()?;
    event_service::run(config).await
}
