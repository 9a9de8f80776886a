#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("notification_service");
    let config = notification_service::NotificationConfig::from_env()?;
    notification_service::run(config).await
}
