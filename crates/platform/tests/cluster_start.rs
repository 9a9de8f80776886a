//! A start on a three-node cluster that is still forming: the streams and buckets, with a replica
//! on every node, wait for the missing member instead of failing the service's start-up.

use std::time::Duration;

use platform::testing::NatsCluster;

#[test]
fn streams_with_a_replica_per_node_wait_for_a_member_that_joins_late() {
    // Every stream and bucket gets three replicas.
    platform::testing::with_stream_replicas(3, late_member());
}

async fn late_member() {
    let mut cluster = NatsCluster::start(3);
    cluster.kill(2);
    cluster.wait_for_jetstream().await;
    let client =
        platform::nats::connect(&cluster.url(), "cluster-start-test", Duration::from_secs(5))
            .await
            .expect("connect");
    let js = platform::nats::jetstream(client);

    let start = tokio::spawn({
        let js = js.clone();
        async move {
            platform::nats::ensure_streams(&js).await?;
            platform::nats::ensure_sessions_bucket(&js).await
        }
    });
    // Two of three members: a stream with three replicas has nowhere to go yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !start.is_finished(),
        "the start did not wait for the third member"
    );

    cluster.restart(2);
    tokio::time::timeout(Duration::from_secs(30), start)
        .await
        .expect("the start went on once the member joined")
        .expect("start task")
        .expect("streams and bucket created");
    for (name, _) in contracts::jetstream::STREAMS {
        let mut stream = js.get_stream(*name).await.expect("stream");
        let info = stream.info().await.expect("stream info");
        assert_eq!(info.config.num_replicas, 3, "{name}");
    }
}
