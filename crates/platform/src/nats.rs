//! NATS connection and JetStream set-up from the definitions in `nats/`.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;

/// How long a JetStream API request (creating a stream, a publish acknowledgement) may take.
/// The client's default of 5 s fails a service's start-up when a busy machine makes the server
/// slow to answer; a broker that is really gone is noticed by the connection, not this.
const JETSTREAM_TIMEOUT: Duration = Duration::from_secs(15);

/// The JetStream context every service uses on `client`.
pub fn jetstream(client: async_nats::Client) -> jetstream::Context {
    let mut js = jetstream::new(client);
    js.set_timeout(JETSTREAM_TIMEOUT);
    js
}

/// Connects, retrying with backoff until `deadline` has passed; afterwards the client reconnects
/// by itself for as long as the process lives. `url` may list several servers separated by
/// commas (the members of a cluster): start-up then does not depend on any single one.
pub async fn connect(
    url: &str,
    name: &str,
    deadline: Duration,
) -> anyhow::Result<async_nats::Client> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let options = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(Duration::from_secs(2))
            .max_reconnects(None::<usize>);
        let servers: Vec<&str> = url.split(',').map(str::trim).collect();
        match options.connect(servers).await {
            Ok(client) => return Ok(client),
            Err(e) if started.elapsed() < deadline => {
                tracing::warn!(error = %e, url, "NATS not reachable yet, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot connect to NATS at {url}"));
            }
        }
    }
}

/// Connects to the configured NATS (`NATS_URL`, waiting up to `NATS_CONNECT_TIMEOUT_SECS`) as
/// client `name`.
pub async fn connect_to(
    links: &crate::config::LinksConfig,
    name: &str,
) -> anyhow::Result<async_nats::Client> {
    connect(&links.nats_url, name, links.nats_connect_timeout).await
}

/// `NATS_STREAM_REPLICAS` (e.g. 3 on a three-node cluster), when set: the replicas of every
/// stream and key-value bucket the services create.
pub fn stream_replicas() -> anyhow::Result<Option<usize>> {
    crate::config::var_opt("NATS_STREAM_REPLICAS")
        .map(|v| v.parse().context("NATS_STREAM_REPLICAS must be a number"))
        .transpose()
}

/// The JetStream context of a service on `client`, once every stream of `nats/streams/` exists.
pub async fn jetstream_with_streams(
    client: async_nats::Client,
) -> anyhow::Result<jetstream::Context> {
    let js = jetstream(client);
    ensure_streams(&js).await?;
    Ok(js)
}

/// Creates or updates every stream of `nats/streams/`. `NATS_STREAM_REPLICAS` overrides the
/// files' single replica, so a restart never undoes it.
pub async fn ensure_streams(js: &jetstream::Context) -> anyhow::Result<()> {
    let replicas = stream_replicas()?;
    for (name, json) in contracts::jetstream::STREAMS {
        let mut config: serde_json::Value =
            serde_json::from_str(json).with_context(|| format!("nats/streams/{name}.json"))?;
        if let Some(n) = replicas {
            config["num_replicas"] = n.into();
        }
        put_stream(js, name, &config)
            .await
            .with_context(|| format!("creating stream {name}"))?;
    }
    Ok(())
}

/// How long a start waits for a cluster to have room for a new stream's replicas. A node that
/// starts a moment after the others has not joined the meta group yet, and until it has, the
/// server refuses a stream with a replica per node ("no suitable peers for placement").
const PLACEMENT_WAIT: Duration = Duration::from_secs(30);

/// Updates stream `name` to `config`, or creates it, waiting up to [`PLACEMENT_WAIT`] while the
/// cluster has too few members for its replicas. The definition goes to the server as the JSON
/// it is: the client's typed stream config does not know every setting we use (`allow_atomic`),
/// and an update through it would switch those off.
async fn put_stream(
    js: &jetstream::Context,
    name: &str,
    config: &serde_json::Value,
) -> anyhow::Result<()> {
    /// The server's error codes for "stream not found" and "no suitable peers for placement".
    const STREAM_NOT_FOUND: u64 = 10059;
    const NO_SUITABLE_PEERS: u64 = 10005;
    let error_code = |answer: &serde_json::Value| answer["error"]["err_code"].as_u64();
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let mut answer: serde_json::Value =
            js.request(format!("STREAM.UPDATE.{name}"), config).await?;
        if error_code(&answer) == Some(STREAM_NOT_FOUND) {
            answer = js.request(format!("STREAM.CREATE.{name}"), config).await?;
        }
        match answer.get("error") {
            None => return Ok(()),
            Some(_)
                if error_code(&answer) == Some(NO_SUITABLE_PEERS)
                    && started.elapsed() < PLACEMENT_WAIT =>
            {
                tracing::warn!(
                    stream = name,
                    "too few cluster members for the replicas yet, retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Some(error) => anyhow::bail!("the server refused the stream: {error}"),
        }
    }
}

/// Creates or updates the key-value bucket of session records from `nats/buckets/` (with the
/// streams' replica override) and opens it.
pub async fn ensure_sessions_bucket(
    js: &jetstream::Context,
) -> anyhow::Result<jetstream::kv::Store> {
    ensure_bucket(js, contracts::jetstream::SESSIONS_BUCKET).await
}

/// Creates or updates a key-value bucket from its definition in `nats/buckets/` (`KV_<bucket>`,
/// a stream keeping one message per key; with the streams' replica override) and opens it.
pub async fn ensure_bucket(
    js: &jetstream::Context,
    (name, json): (&str, &str),
) -> anyhow::Result<jetstream::kv::Store> {
    let mut config: serde_json::Value =
        serde_json::from_str(json).with_context(|| format!("nats/buckets/{name}.json"))?;
    if let Some(n) = stream_replicas()? {
        config["num_replicas"] = n.into();
    }
    let bucket = name
        .strip_prefix("KV_")
        .with_context(|| format!("bucket stream {name} is not named KV_<bucket>"))?;
    put_stream(js, name, &config)
        .await
        .with_context(|| format!("creating bucket {name}"))?;
    js.get_key_value(bucket)
        .await
        .with_context(|| format!("opening bucket {name}"))
}

/// Creates or updates a durable pull consumer from its JSON definition.
pub async fn ensure_consumer(
    js: &jetstream::Context,
    stream: &str,
    json: &str,
) -> anyhow::Result<jetstream::consumer::PullConsumer> {
    let config: jetstream::consumer::pull::Config =
        serde_json::from_str(json).with_context(|| format!("consumer definition on {stream}"))?;
    let name = config.durable_name.clone().unwrap_or_default();
    js.create_consumer_on_stream(config, stream)
        .await
        .with_context(|| format!("creating consumer {name} on {stream}"))
}

/// For `/ready`: the connection is up.
pub fn is_connected(client: &async_nats::Client) -> Result<(), String> {
    match client.connection_state() {
        async_nats::connection::State::Connected => Ok(()),
        other => Err(format!("NATS connection is {other}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_stream_definition_parses_as_a_jetstream_config() {
        for (name, json) in contracts::jetstream::STREAMS {
            let config: async_nats::jetstream::stream::Config =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(config.name, *name);
            assert!(!config.subjects.is_empty());
            assert_eq!(config.duplicate_window, std::time::Duration::from_secs(120));
        }
    }

    #[test]
    fn the_sessions_bucket_definition_is_a_key_value_bucket_keeping_one_value_per_key() {
        let (name, json) = contracts::jetstream::SESSIONS_BUCKET;
        let config: async_nats::jetstream::stream::Config = serde_json::from_str(json).unwrap();
        assert_eq!(config.name, name);
        assert_eq!(config.name, format!("KV_{}", crate::auth::record::BUCKET));
        assert_eq!(config.subjects, ["$KV.SESSIONS.>"]);
        assert_eq!(config.max_messages_per_subject, 1);
        assert!(config.allow_rollup && config.deny_delete && config.allow_direct);
    }

    #[test]
    fn the_waiting_room_bucket_keeps_one_value_per_key_for_as_long_as_the_sale_lasts() {
        let (name, json) = contracts::jetstream::WAITING_ROOM_BUCKET;
        let config: async_nats::jetstream::stream::Config = serde_json::from_str(json).unwrap();
        assert_eq!(config.name, name);
        assert_eq!(config.subjects, ["$KV.WAITING_ROOM.>"]);
        assert_eq!(config.max_messages_per_subject, 1);
        // Places in line must outlive any restart: nothing in the bucket ages out.
        assert_eq!(config.max_age, std::time::Duration::ZERO);
        assert_eq!(
            config.storage,
            async_nats::jetstream::stream::StorageType::File
        );
        assert!(config.allow_rollup && config.deny_delete && config.allow_direct);
    }
}
