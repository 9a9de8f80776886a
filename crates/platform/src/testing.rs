//! Test support shared by every crate's tests: a real nats-server on a free port, servers on
//! port 0, temp data dirs and HTTP clients with cookie jars.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// `TEST_MONGODB_URI`: the MongoDB (a replica set, for transactions) the store contracts also run
/// against; `None` when unset.
pub fn mongodb_uri() -> Option<String> {
    crate::config::var_opt("TEST_MONGODB_URI")
}

/// A database name no other test uses: `<package>_test_<random>`.
pub fn fresh_database(package: &str) -> String {
    format!(
        "{}_test_{}",
        package.replace('-', "_"),
        uuid::Uuid::new_v4().simple()
    )
}

/// One contract suite for every adapter of a store port. Each case is an
/// `async fn(Arc<dyn Port>)`; it runs on SQLite always (a fresh `sqlite` store) and on MongoDB when
/// `TEST_MONGODB_URI` is set (`mongodb(&uri, &database)`, a fresh database per case). `runtime`
/// (optional) passes arguments to `#[tokio::test]`.
///
/// ```text
/// platform::store_contract! {
///     store: dyn AuthStore,
///     sqlite: SqliteStore::in_memory(),
///     mongodb: MongoStore::connect,
///     runtime: (flavor = "multi_thread", worker_threads = 4),
///     cases: [users_round_trip, sessions_expire],
/// }
/// ```
#[macro_export]
macro_rules! store_contract {
    (
        store: $store:ty,
        sqlite: $sqlite:expr,
        mongodb: $mongodb:path,
        cases: [$($case:ident),* $(,)?] $(,)?
    ) => {
        $crate::store_contract! {
            store: $store,
            sqlite: $sqlite,
            mongodb: $mongodb,
            runtime: (),
            cases: [$($case),*],
        }
    };
    (
        store: $store:ty,
        sqlite: $sqlite:expr,
        mongodb: $mongodb:path,
        runtime: $runtime:tt,
        cases: [$($case:ident),* $(,)?] $(,)?
    ) => {
        fn store_contract_sqlite() -> ::std::sync::Arc<$store> {
            ::std::sync::Arc::new($sqlite.expect("an in-memory SQLite store"))
        }

        async fn store_contract_mongodb(uri: &str) -> ::std::sync::Arc<$store> {
            let database = $crate::testing::fresh_database(env!("CARGO_PKG_NAME"));
            ::std::sync::Arc::new($mongodb(uri, &database).await.expect("MongoDB reachable"))
        }

        mod on_sqlite {
            $(
                #[tokio::test $runtime]
                async fn $case() {
                    super::$case(super::store_contract_sqlite()).await;
                }
            )*
        }

        mod on_mongodb {
            $(
                #[tokio::test $runtime]
                async fn $case() {
                    match $crate::testing::mongodb_uri() {
                        Some(uri) => super::$case(super::store_contract_mongodb(&uri).await).await,
                        None => eprintln!("TEST_MONGODB_URI not set; MongoDB contract not run"),
                    }
                }
            )*
        }
    };
}

/// Resolves the nats-server binary: `NATS_SERVER_BIN`, else `nats-server` on `PATH`.
pub fn nats_server_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("NATS_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    PathBuf::from("nats-server")
}

/// A free loopback port (bound then released; good enough for tests).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A real nats-server with JetStream, on a free port with its own store dir, killed on drop.
pub struct NatsServer {
    pub port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start() -> Self {
        let store = tempfile::tempdir().expect("temp dir");
        let mut server = Self {
            port: free_port(),
            store,
            child: None,
        };
        server.spawn();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    fn spawn(&mut self) {
        let child = Command::new(nats_server_bin())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "nats-server must be installed (cargo xtask test installs it, or set NATS_SERVER_BIN)",
            );
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    /// Stops the server (its store dir is kept).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store dir.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Three (or `size`) nats-servers with JetStream clustered on loopback, each with its own store
/// dir; a node can be killed with SIGKILL and started again.
pub struct NatsCluster {
    nodes: Vec<ClusterNode>,
}

struct ClusterNode {
    name: String,
    port: u16,
    cluster_port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsCluster {
    /// Starts every node; returns once each listens (JetStream needs a moment more to elect its
    /// meta leader: see [`NatsCluster::wait_for_jetstream`]).
    pub fn start(size: usize) -> Self {
        let nodes = (0..size)
            .map(|i| ClusterNode {
                name: format!("node-{}", i + 1),
                port: free_port(),
                cluster_port: free_port(),
                store: tempfile::tempdir().expect("temp dir"),
                child: None,
            })
            .collect();
        let mut cluster = Self { nodes };
        for i in 0..size {
            cluster.spawn(i);
        }
        for node in &cluster.nodes {
            wait_for_port(node.port, Duration::from_secs(10));
        }
        cluster
    }

    /// Every node's URL, comma-separated (as `NATS_URL` takes them).
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The server name of node `i` (as stream info names leaders and replicas).
    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    fn spawn(&mut self, i: usize) {
        let routes = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.cluster_port))
            .collect::<Vec<_>>()
            .join(",");
        let node = &mut self.nodes[i];
        let child = Command::new(nats_server_bin())
            .args(["-js", "-a", "127.0.0.1", "-n", &node.name])
            .args(["-p", &node.port.to_string(), "-sd"])
            .arg(node.store.path())
            .args(["--cluster_name", "test-cluster"])
            .args([
                "--cluster",
                &format!("nats://127.0.0.1:{}", node.cluster_port),
            ])
            .args(["--routes", &routes])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server must be installed (or set NATS_SERVER_BIN)");
        node.child = Some(child);
    }

    /// SIGKILL: the node gets no chance to hand over leadership or flush anything.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed node again on its ports and store dir.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        wait_for_port(self.nodes[i].port, Duration::from_secs(10));
    }

    /// Waits (up to 30 s) until the cluster answers JetStream requests.
    pub async fn wait_for_jetstream(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let servers: Vec<String> = self.url().split(',').map(str::to_string).collect();
        let client = async_nats::connect(servers)
            .await
            .expect("connect to the cluster");
        let js = async_nats::jetstream::new(client);
        while js.query_account().await.is_err() {
            assert!(Instant::now() < deadline, "JetStream never became ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Runs `test` on a fresh runtime in a process whose streams and buckets get a replica on each of
/// `replicas` cluster nodes (`NATS_STREAM_REPLICAS`, read wherever a stream is created). The
/// variable is set before the runtime starts its threads, so it must be its test binary's only
/// test.
pub fn with_stream_replicas(replicas: usize, test: impl Future<Output = ()>) {
    // SAFETY: no other thread runs yet: the runtime is built after this.
    unsafe { std::env::set_var("NATS_STREAM_REPLICAS", replicas.to_string()) };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test);
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

fn wait_for_port(port: u16, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on port {port} after {timeout:?}");
}

/// A router served on a random loopback port until dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl TestServer {
    pub async fn spawn(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        Self::spawn_on(listener, router)
    }

    pub fn spawn_on(listener: tokio::net::TcpListener, router: Router) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = crate::http::serve(listener, router, async {
                let _ = rx.await;
            })
            .await;
        });
        Self {
            addr,
            shutdown: Some(tx),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop: in-flight requests finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTP client with its own cookie jar, like one browser.
#[derive(Clone)]
pub struct TestClient {
    pub http: reqwest::Client,
    pub base: String,
}

/// A response with its body already read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text))
    }

    /// The stable error code of an error response.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text))
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestClient {
    pub fn new(base: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            http,
            base: base.into(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> TestResponse {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        TestResponse {
            status,
            headers,
            text,
        }
    }

    /// The same browser (its cookie jar) pointed at another service: the auth cookie reaches
    /// every service on the host, whatever the port.
    pub fn pointed_at(&self, base: impl Into<String>) -> TestClient {
        TestClient {
            http: self.http.clone(),
            base: base.into(),
        }
    }

    /// A `method` request to `path` as `shape` makes it (headers, a raw body).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        shape: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> TestResponse {
        self.send(shape(self.http.request(method, self.url(path))))
            .await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.http.patch(self.url(path)).json(body)).await
    }
}

/// A temp dir that lives as long as the value.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A message as stored in a stream, decoded for assertions.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub subject: String,
    pub msg_id: Option<String>,
    pub traceparent: Option<String>,
    pub envelope: Value,
}

/// Every message of `stream`, in order.
pub async fn stream_events(js: &async_nats::jetstream::Context, stream: &str) -> Vec<StoredEvent> {
    let mut s = js.get_stream(stream).await.expect("stream exists");
    let state = s.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return out;
    }
    for seq in state.first_sequence..=state.last_sequence {
        let Ok(m) = s.get_raw_message(seq).await else {
            continue;
        };
        let header = |name: &str| m.headers.get(name).map(|v| v.as_str().to_string());
        out.push(StoredEvent {
            subject: m.subject.to_string(),
            msg_id: m
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str().to_string()),
            traceparent: header(contracts::subjects::headers::TRACEPARENT),
            envelope: serde_json::from_slice(&m.payload).unwrap_or(Value::Null),
        });
    }
    out
}

/// Waits (up to 10 s) until `stream` holds events for which `done` holds, and returns them.
pub async fn wait_for_events(
    js: &async_nats::jetstream::Context,
    stream: &str,
    done: impl Fn(&[StoredEvent]) -> bool,
) -> Vec<StoredEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = stream_events(js, stream).await;
        if done(&events) {
            return events;
        }
        if Instant::now() > deadline {
            panic!(
                "stream {stream} never reached the expected state; it holds: {:#?}",
                events
                    .iter()
                    .map(|e| (&e.subject, &e.envelope["subject"]))
                    .collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to 10 s) until `stream` holds a fact on `subject`, and returns every fact on it.
pub async fn wait_for_facts(
    js: &async_nats::jetstream::Context,
    stream: &str,
    subject: &str,
) -> Vec<StoredEvent> {
    let mut events = wait_for_events(js, stream, |e| e.iter().any(|e| e.subject == subject)).await;
    events.retain(|e| e.subject == subject);
    events
}

/// Publishes `envelope` on its `type` with `headers` (a `Nats-Msg-Id` lets the stream drop a
/// copy), as another service's relay would, and waits for the stream's acknowledgement.
pub async fn publish_envelope<T: serde::Serialize>(
    js: &async_nats::jetstream::Context,
    envelope: &contracts::Envelope<T>,
    headers: async_nats::HeaderMap,
) {
    let payload = serde_json::to_vec(envelope).expect("serializable envelope");
    js.publish_with_headers(envelope.kind.clone(), headers, payload.into())
        .await
        .expect("published")
        .await
        .expect("stream acknowledged");
}

/// Headers carrying only `Nats-Msg-Id`.
pub fn msg_id(id: &str) -> async_nats::HeaderMap {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(contracts::subjects::headers::MSG_ID, id);
    headers
}

/// The links of a service under test: the given nats-server and auth service, connection
/// waits long enough for a busy test machine.
pub fn links(
    nats_url: impl Into<String>,
    auth_url: impl Into<String>,
) -> crate::config::LinksConfig {
    crate::config::LinksConfig {
        nats_url: nats_url.into(),
        nats_connect_timeout: Duration::from_secs(5),
        auth_url: auth_url.into(),
        auth_timeout: Duration::from_secs(5),
    }
}

/// Polls `check` (up to 10 s) until it returns `Some`.
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
