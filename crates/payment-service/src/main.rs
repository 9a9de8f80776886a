#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("payment_service");
    let config = payment_service::PaymentConfig::from_env()?;
    payment_service::run(config).await
}
