//! Session checks from the local copy of the sessions bucket: a real nats-server, a real auth
//! service writing the records and a real server whose `AuthUser` extractor follows them. Each
//! test counts the calls the auth service gets on `/api/auth/verify`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_service::AppState;
use auth_service::testing::{PASSWORD, registration};
use axum::extract::{FromRef, Request};
use axum::middleware::{self, Next};
use axum::routing::get;
use axum::{Json, Router};
use platform::testing::{NatsServer, TestServer, eventually};
use platform::{AuthClient, AuthUser, Role};
use reqwest::Method;
use serde_json::{Value, json};

/// The auth service, how often it was asked to verify, and a service that checks sessions
/// locally.
struct Setup {
    auth: TestServer,
    auth_state: AppState,
    verifies: Arc<AtomicUsize>,
    service: TestServer,
    service_auth: AuthClient,
    http: reqwest::Client,
}

#[derive(Clone)]
struct ServiceState {
    auth: AuthClient,
}

impl FromRef<ServiceState> for AuthClient {
    fn from_ref(s: &ServiceState) -> AuthClient {
        s.auth.clone()
    }
}

async fn setup(nats: &NatsServer, config: auth_service::AuthConfig) -> Setup {
    let config = auth_service::AuthConfig {
        nats_url: Some(nats.url()),
        ..config
    };
    let app = auth_service::build(config).await.expect("auth builds");
    let auth_state = app.state.clone();
    let verifies = Arc::new(AtomicUsize::new(0));
    let counter = verifies.clone();
    let counted = platform::service::router(app.state).layer(middleware::from_fn(
        move |req: Request, next: Next| {
            if req.uri().path() == "/api/auth/verify" {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            next.run(req)
        },
    ));
    let auth = TestServer::spawn(counted).await;

    let nats_client = platform::nats::connect(&nats.url(), "service", Duration::from_secs(5))
        .await
        .expect("connects to NATS");
    let service_auth =
        AuthClient::new(&auth.url(), Duration::from_secs(2)).following_sessions(nats_client);
    let router =
        Router::new()
            .route(
                "/whoami",
                get(|user: AuthUser| async move {
                    Json(json!({"email": user.email, "role": user.role}))
                }),
            )
            .with_state(ServiceState {
                auth: service_auth.clone(),
            });
    let service = TestServer::spawn(router).await;
    let setup = Setup {
        auth,
        auth_state,
        verifies,
        service,
        service_auth,
        http: reqwest::Client::new(),
    };
    eventually(
        "the auth service to open the bucket and the copy to catch up",
        || async {
            let ready = setup.auth_state.records.is_open() && setup.local_is_current();
            ready.then_some(())
        },
    )
    .await;
    setup
}

impl Setup {
    fn local_is_current(&self) -> bool {
        let local = self
            .service_auth
            .local_sessions()
            .expect("follows sessions");
        local.is_current()
    }

    fn verifies(&self) -> usize {
        self.verifies.load(Ordering::SeqCst)
    }

    /// Registers `email`; the `Cookie` header its session travels in, and the user.
    async fn sign_up(&self, email: &str) -> (String, Value) {
        let res = self
            .http
            .post(format!("{}/api/auth/register", self.auth.url()))
            .json(&registration(email, PASSWORD))
            .send()
            .await
            .expect("register");
        assert_eq!(res.status(), 201);
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let body: Value = res.json().await.unwrap();
        (cookie, body["user"].clone())
    }

    /// `method url` sent with the session `cookie`.
    async fn with_cookie(&self, method: Method, url: String, cookie: &str) -> reqwest::Response {
        self.http
            .request(method, url)
            .header("cookie", cookie)
            .send()
            .await
            .expect("the request reaches the server")
    }

    /// The service's answer to `/whoami` with `cookie`: status and body.
    async fn whoami(&self, cookie: &str) -> (u16, Value) {
        let url = format!("{}/whoami", self.service.url());
        let res = self.with_cookie(Method::GET, url, cookie).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the service answers `cookie` without asking the auth service.
    async fn until_checked_locally(&self, cookie: &str) {
        eventually("the session's records to reach the copy", || async {
            let before = self.verifies();
            let (status, _) = self.whoami(cookie).await;
            (status == 200 && self.verifies() == before).then_some(())
        })
        .await;
    }

    /// How long after now the service first refuses `cookie` (polled every 10 ms, up to 5 s).
    async fn time_until_refused(&self, cookie: &str) -> Duration {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if self.whoami(cookie).await.0 == 401 {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the session was still accepted after 5 s");
    }

    async fn logout(&self, cookie: &str) {
        let url = format!("{}/api/auth/logout", self.auth.url());
        let res = self.with_cookie(Method::POST, url, cookie).await;
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn a_signed_in_caller_is_checked_without_a_call_to_the_auth_service() {
    let nats = NatsServer::start();
    let setup = setup(&nats, auth_service::testing::config()).await;
    let (cookie, user) = setup.sign_up("ada@example.com").await;
    setup.until_checked_locally(&cookie).await;

    let before = setup.verifies();
    for _ in 0..50 {
        let (status, body) = setup.whoami(&cookie).await;
        assert_eq!(
            (status, body["email"].clone()),
            (200, user["email"].clone())
        );
    }
    assert_eq!(setup.verifies(), before, "no check asked the auth service");

    // An unknown cookie is asked about (the copy may simply not have it yet) and refused.
    assert_eq!(setup.whoami("sid=unknown").await.0, 401);
    assert_eq!(setup.verifies(), before + 1);
    // No session cookie at all is refused without asking.
    assert_eq!(setup.whoami("other=1").await.0, 401);
    assert_eq!(setup.verifies(), before + 1);
}

#[tokio::test]
async fn a_logout_takes_effect_in_another_service_within_a_second() {
    let nats = NatsServer::start();
    let setup = setup(&nats, auth_service::testing::config()).await;
    let (cookie, _) = setup.sign_up("ada@example.com").await;
    let (other_cookie, _) = setup.sign_up("bob@example.com").await;
    setup.until_checked_locally(&cookie).await;
    setup.until_checked_locally(&other_cookie).await;

    setup.logout(&cookie).await;
    let took = setup.time_until_refused(&cookie).await;
    println!("logout reached the other service after {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(
        setup.whoami(&other_cookie).await.0,
        200,
        "other sessions live on"
    );
}

#[tokio::test]
async fn disabling_an_account_or_changing_its_role_takes_effect_within_a_second() {
    let nats = NatsServer::start();
    let setup = setup(&nats, auth_service::testing::config()).await;
    let (cookie, user) = setup.sign_up("ada@example.com").await;
    let id = user["id"].as_str().unwrap().parse().unwrap();
    setup.until_checked_locally(&cookie).await;

    auth_service::accounts::set_role(&setup.auth_state, id, Role::Admin)
        .await
        .unwrap();
    let started = Instant::now();
    eventually("the new role to reach the other service", || async {
        (setup.whoami(&cookie).await.1["role"] == "admin").then_some(())
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(1));

    auth_service::accounts::set_active(&setup.auth_state, id, false)
        .await
        .unwrap();
    let took = setup.time_until_refused(&cookie).await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[tokio::test]
async fn an_expired_session_is_refused_locally_and_a_used_one_slides_through_its_idle_timeout() {
    let nats = NatsServer::start();
    let config = auth_service::AuthConfig {
        session_idle: Duration::from_secs(2),
        session_max_age: Duration::from_secs(5),
        ..auth_service::testing::config()
    };
    let setup = setup(&nats, config).await;
    let (cookie, _) = setup.sign_up("ada@example.com").await;
    setup.until_checked_locally(&cookie).await;

    // Used every 100 ms for 3 s, longer than the idle timeout: the copy has the auth service
    // refresh it (every 100 ms at most, a twentieth of the timeout) and it lives on.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            setup.whoami(&cookie).await.0,
            200,
            "after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Then it reaches its absolute lifetime and is refused. (Whether the copy or the auth
    // service says so depends on whether a background refresh still in flight reached the auth
    // service after the end, which deletes the record; either is right.)
    let took = setup.time_until_refused(&cookie).await;
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(setup.whoami(&cookie).await.0, 401);

    // A session left alone dies of its idle timeout, and with no refresh in flight the copy
    // alone says no.
    let (idle_cookie, _) = setup.sign_up("bob@example.com").await;
    setup.until_checked_locally(&idle_cookie).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let before = setup.verifies();
    assert_eq!(setup.whoami(&idle_cookie).await.0, 401);
    assert_eq!(setup.verifies(), before, "refused without asking");
}

#[tokio::test]
async fn without_nats_sessions_are_checked_by_the_auth_service_and_a_logout_still_counts() {
    let mut nats = NatsServer::start();
    let setup = setup(&nats, auth_service::testing::config()).await;
    let (cookie, _) = setup.sign_up("ada@example.com").await;
    let (other_cookie, _) = setup.sign_up("bob@example.com").await;
    setup.until_checked_locally(&cookie).await;

    nats.stop();
    eventually("the copy to stop trusting itself", || async {
        (!setup.local_is_current()).then_some(())
    })
    .await;
    let before = setup.verifies();
    assert_eq!(setup.whoami(&cookie).await.0, 200);
    assert_eq!(setup.verifies(), before + 1, "asked the auth service");

    setup.logout(&cookie).await;
    assert_eq!(setup.whoami(&cookie).await.0, 401);

    // Back on line, the copy replays the bucket: the logout written late is in it.
    nats.restart();
    eventually("the copy to catch up again", || async {
        setup.local_is_current().then_some(())
    })
    .await;
    setup.until_checked_locally(&other_cookie).await;
    assert_eq!(setup.whoami(&cookie).await.0, 401);
}
