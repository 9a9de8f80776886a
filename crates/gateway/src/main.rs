#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("gateway");
    gateway::run(gateway::GatewayConfig::from_env()?).await
}
