//! A slow or greedy client cannot hold a server: raw sockets against `serve_with_limits`.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use platform::health::Readiness;
use platform::http::{ServerLimits, serve_with_limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: ServerLimits = ServerLimits {
    header_timeout: Duration::from_millis(800),
    request_timeout: Duration::from_millis(1500),
    max_connections: 2,
};

/// A server with `POST /echo` (reads the whole body) and `/health`.
async fn server() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let routes = Router::new().route("/echo", post(|body: String| async move { body }));
    let router = platform::http::finish(routes, Readiness::new("test"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(serve_with_limits(
        listener,
        router,
        async {
            let _ = rx.await;
        },
        LIMITS,
    ));
    (addr, tx)
}

/// Reads until the server closes the connection (or 10 s pass); returns what arrived and when
/// the connection closed.
async fn read_until_closed(
    stream: &mut (impl AsyncReadExt + Unpin),
    since: Instant,
) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open for 10 s"),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), since.elapsed())
}

#[tokio::test]
async fn a_client_that_sends_its_request_head_one_byte_at_a_time_is_cut_off() {
    let (addr, _stop) = server().await;
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, write) = stream.into_split();
    let sender = tokio::spawn(async move {
        let mut write = write;
        for b in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
        {
            if write.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), read.read(&mut buf))
        .await
        .expect("the server kept a slow head for 10 s")
        .unwrap_or(0);
    let elapsed = started.elapsed();
    println!(
        "slow head cut off after {elapsed:?} (head timeout {:?})",
        LIMITS.header_timeout
    );
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        !answer.contains("200 OK"),
        "the slow request was served: {answer}"
    );
    assert!(elapsed < LIMITS.header_timeout * 3, "{elapsed:?}");
    sender.abort();
}

#[tokio::test]
async fn a_client_that_trickles_its_body_gets_408_and_the_connection_closes() {
    let (addr, _stop) = server().await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        .await
        .unwrap();
    let (mut read, write) = stream.into_split();
    let sender = tokio::spawn(async move {
        let mut write = write;
        for _ in 0..100 {
            if write.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let (answer, elapsed) = read_until_closed(&mut read, started).await;
    println!(
        "trickling body cut off after {elapsed:?} (request timeout {:?})",
        LIMITS.request_timeout
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(elapsed < LIMITS.request_timeout * 3, "{elapsed:?}");
    sender.abort();
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_head_timeout() {
    let (addr, _stop) = server().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, elapsed) = read_until_closed(&mut stream, started).await;
    println!("idle connection closed {elapsed:?} after its answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        elapsed >= LIMITS.header_timeout / 2,
        "closed too early: {elapsed:?}"
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let (addr, _stop) = server().await;
    // Two silent connections take both places.
    let mut first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served beside two others"
    );
    // A place frees up when the server closes a silent connection (head timeout) or it leaves.
    first.shutdown().await.unwrap();
    drop(first);
    let started = Instant::now();
    let (answer, _) = read_until_closed(&mut third, started).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
