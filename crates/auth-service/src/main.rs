#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("auth_service");
    let config = auth_service::AuthConfig::from_env()?;
    auth_service::run(config).await
}
