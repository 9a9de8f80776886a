//! The web app in a real browser: headless Chromium (through chromedriver) against the whole
//! system, with the gateway serving the built bundle. The journey, all through the UI:
//!
//! 1. an organizer signs up, creates an event on the Create event page (every required field,
//!    two ticket types), sees it under My events and logs out;
//! 2. a buyer signs up, filters the list (category, then search) down to that event, opens it,
//!    watches the availability change live while someone else books, and books 2 tickets;
//! 3. the decline card `4000 0000 0000 0002` is refused with its reason shown, the retry with
//!    `4242 4242 4242 4242` is approved: booking reference, two ticket codes with QR codes;
//! 4. My orders lists the confirmed order with its tickets; reloading `/events/<id>` renders the
//!    page (the gateway's SPA fallback), still signed in, with the live count;
//! 5. the organizer signs in, names and removes check-in staff on the event's dashboard, opens
//!    the check-in scanner from it and types the buyer's first ticket code: green with the
//!    buyer's name, then amber `already_checked_in`; offline (emulated) the second ticket is
//!    green from the kept list and queued ("Offline, 1 queued"), amber when scanned again, and
//!    back online the queue is uploaded and the server's answer shown;
//! 6. from the dashboard (seats sold, gross, the sales chart) the organizer finds the buyer's
//!    order by its reference, refunds it after the confirmation and sees it turn refunded once
//!    the payment came back; the scanner now refuses its ticket (red, refunded); the buyer
//!    then finds the refunded order under My orders;
//! 7. in a second browser whose fake camera films the first ticket's QR code (drawn from the
//!    order page's SVG into a Y4M video), the organizer starts the scanner's camera: the wasm QR
//!    decoder reads the signed code by itself and the answer is red, refunded.
//!
//! Each page is photographed (1280x900, and the event list and detail also at phone width
//! 412x915) into `$TMPDIR/ticketing-browser-screenshots/`; with `UPDATE_SCREENSHOTS=1` the
//! README's ones are also written to `docs/screenshots/`.
//!
//! `cargo xtask test` builds the bundle, installs Chromium when missing and runs this with
//! `WEB_DIST_DIR`, `CHROME_BIN` and `CHROMEDRIVER` set. `SKIP_BROWSER_TEST=1` skips it, loudly;
//! otherwise a missing bundle or browser is a failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use chrono::Utc;
use e2e::webdriver::Browser;
use e2e::{Options, System};
use platform::testing::TestClient;
use serde_json::json;

/// How long any one thing may take to appear.
const WAIT: Duration = Duration::from_secs(20);
/// A payment goes through the payment service, the saga and back.
const PAYMENT_WAIT: Duration = Duration::from_secs(40);
/// The WebDriver code of the Enter key.
const ENTER: &str = "\u{E007}";
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (412, 915);

const TITLE: &str = "Fado by the River";
const PASSWORD: &str = "correct-horse-battery";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

fn tool(var: &str, names: &[&str]) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| on_path(names))
        .unwrap_or_else(|| {
            panic!(
                "{} not found: run `cargo xtask test` (it installs chromium and chromium-driver), \
                 set {var}, or set SKIP_BROWSER_TEST=1 to skip the browser test",
                names[0]
            )
        })
}

/// The whole system serving the built bundle, and the browser to drive it.
struct Setup {
    system: System,
    chrome: PathBuf,
    driver: PathBuf,
}

impl Setup {
    /// A new headless Chromium session, with `extra` command-line switches (e.g. a fake camera).
    async fn browser_with(&self, extra: &[String]) -> Browser {
        Browser::start_with(&self.driver, &self.chrome, extra)
            .await
            .expect("chromedriver and headless Chromium start")
    }
}

/// Starts the system for a browser test; `None` (said loudly) when `SKIP_BROWSER_TEST=1`. A
/// missing bundle or browser is a failure.
async fn setup() -> Option<Setup> {
    if std::env::var("SKIP_BROWSER_TEST").as_deref() == Ok("1") {
        eprintln!(
            "\n{bar}\n!! SKIPPED: the browser test (SKIP_BROWSER_TEST=1). The web app was NOT \
             tested in a browser.\n{bar}\n",
            bar = "!".repeat(100)
        );
        return None;
    }
    let dist = std::env::var_os("WEB_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("web/dist"));
    assert!(
        dist.join("index.html").is_file(),
        "no web bundle at {}: run `cargo xtask test` (it builds it) or `cargo xtask web`, \
         or set SKIP_BROWSER_TEST=1",
        dist.display()
    );
    let chrome = tool(
        "CHROME_BIN",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = tool("CHROMEDRIVER", &["chromedriver"]);
    let system = System::start_with(Options {
        web_dist: Some(dist),
        ..Options::default()
    })
    .await;
    Some(Setup {
        system,
        chrome,
        driver,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_ui_in_headless_chromium() {
    let Some(setup) = setup().await else {
        return;
    };
    let system = &setup.system;
    let started = Instant::now();
    seed_other_events(system).await;

    let shots = Shots::new();
    let browser = setup.browser_with(&[]).await;
    let outcome = journey(&browser, system, &shots).await;
    let (event_id, tickets) = finish(browser, &shots, "browser journey", outcome).await;

    // The camera, in a browser of its own whose fake camera films a ticket's QR code.
    let camera = setup.browser_with(&fake_camera(&shots.dir, &tickets)).await;
    let outcome = camera_scan(&camera, system, &event_id, &tickets, &shots).await;
    finish(camera, &shots, "scanning with the camera", outcome).await;

    // The gateway answers a deep link with the app itself, not a 404.
    let res = system.browser().get(&format!("/events/{event_id}")).await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("id=\"main\""), "{}", res.text);
    eprintln!(
        "browser journey passed in {:.1?}; screenshots in {}{}",
        started.elapsed(),
        shots.dir.display(),
        match &shots.docs {
            Some(d) => format!(" and {}", d.display()),
            None => String::new(),
        }
    );
}

/// The waitlist in the browser: on the event page a buyer joins the waitlist of a sold-out
/// ticket type and sees their place in line; the seat comes back (its holder cancels) and the
/// offer appears by itself with its countdown; Accept turns it into a pending order, shown on
/// its order page with the hold's countdown. The name extends the journey's, so the filter that
/// leaves the browser out of a workspace run leaves this out too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_ui_in_headless_chromium_joins_a_waitlist_and_accepts_an_offer() {
    let Some(setup) = setup().await else {
        return;
    };
    let system = &setup.system;
    let organizer = system.sign_up("Wendy").await;
    let event = system
        .create_event(&organizer, &[("General", 20.0, 1)])
        .await;
    let holder = system.sign_up("Hal").await;
    let held = e2e::book(&holder, event, 1).await;

    let shots = Shots::new();
    let browser = setup.browser_with(&[]).await;
    let outcome =
        waitlist_journey(&browser, system, &event.to_string(), &holder, &held, &shots).await;
    finish(browser, &shots, "waitlist journey", outcome).await;
}

async fn waitlist_journey(
    b: &Browser,
    system: &System,
    event: &str,
    holder: &TestClient,
    held: &serde_json::Value,
    shots: &Shots,
) -> anyhow::Result<()> {
    set_viewport(b, DESKTOP, false).await?;
    let base = system.gateway.url();
    b.goto(&format!("{base}/register")).await?;
    register(b, "Wanda", "Waiting", "wanda@example.com").await?;
    b.click_on("[data-testid=register]", WAIT).await?;
    b.wait_for_text("[data-testid=user-name]", "Wanda Waiting", WAIT)
        .await?;

    // The only seat is held by someone else: the type is sold out, and the buyer joins its line.
    b.goto(&format!("{base}/events/{event}")).await?;
    b.wait_for_text(".tt-avail", "Sold out", WAIT).await?;
    b.click(
        &b.wait_for_text("[data-testid=join-waitlist]", "General", WAIT)
            .await?,
    )
    .await?;
    b.wait_for_text("[data-testid=waitlist-position]", "number 1", WAIT)
        .await?;
    shots
        .take(b, "waitlist-joined", Some("[data-testid=waitlist]"), false)
        .await?;

    // Its holder cancels: the seat is offered to the buyer, on the page they have open.
    let order_id = held["orderId"].as_str().context("the held order's id")?;
    let res = holder
        .post(
            &format!("/api/tickets/orders/{order_id}/cancel"),
            &json!({}),
        )
        .await;
    ensure!(res.status == 200, "cancelling the held order: {}", res.text);
    b.wait_for_text("[data-testid=waitlist-offer]", "held for you", WAIT)
        .await?;
    b.wait_for("[data-testid=waitlist-offer] [data-testid=countdown]", WAIT)
        .await?;
    shots
        .take(b, "waitlist-offer", Some("[data-testid=waitlist]"), false)
        .await?;

    // Accept: a pending order of that seat, with the hold's countdown, ready to pay.
    b.click_on("[data-testid=accept-offer]", WAIT).await?;
    b.wait_for_url("/orders/", WAIT).await?;
    b.wait_for("[data-testid=countdown]", WAIT).await?;
    b.wait_for_text("body", "General", WAIT).await?;
    shots.take(b, "waitlist-order", None, false).await
}

/// The waiting room's rate in the queue journey: one place every 4 s from the opening, so the
/// buyer, third in line, is admitted 12 s after it; time enough to be seen waiting, however
/// slowly the browser gets there, and little added to the run.
const ADMIT_PER_MINUTE: u32 = 15;

/// The waiting room in the browser: an on-sale that opens as the event is published, admitting
/// [`ADMIT_PER_MINUTE`], with two visitors already in line. The buyer opens the event, joins its
/// queue from the notice and sees their place (third) and the wait, then the line moving; once
/// admitted the page returns to the event holding the pass, the booking carries it (a booking
/// without one is refused) and the order page follows. The name extends the journey's, so the
/// filter that leaves the browser out of a workspace run leaves this out too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_ui_in_headless_chromium_waits_in_the_queue_and_books_with_its_pass() {
    let Some(setup) = setup().await else {
        return;
    };
    let started = Instant::now();
    let shots = Shots::new();
    let browser = setup.browser_with(&[]).await;
    let outcome = queue_journey(&browser, &setup.system, &shots).await;
    finish(browser, &shots, "waiting room journey", outcome).await;
    eprintln!("waiting room journey passed in {:.1?}", started.elapsed());
}

async fn queue_journey(b: &Browser, system: &System, shots: &Shots) -> anyhow::Result<()> {
    set_viewport(b, DESKTOP, false).await?;
    let base = system.gateway.url();
    let organizer = system.sign_up("Quincy").await;
    let ahead = system.sign_ups("Early", 2).await;
    b.goto(&format!("{base}/register")).await?;
    register(b, "Quinn", "Queue", "quinn@example.com").await?;
    b.click_on("[data-testid=register]", WAIT).await?;
    b.wait_for_text("[data-testid=user-name]", "Quinn Queue", WAIT)
        .await?;

    // The sale opens now, and two visitors queue at once: first and second, in arrival order.
    let opened = Instant::now();
    let sale = json!({
        "onSaleAt": Utc::now().to_rfc3339(),
        "queue": {"enabled": true, "admitPerMinute": ADMIT_PER_MINUTE},
    });
    let event = system
        .create_event_with(&organizer, &[("General", 20.0, 10)], sale)
        .await;
    let queue = format!("/api/tickets/events/{event}/queue");
    for (place, visitor) in (1..).zip(&ahead) {
        let res = visitor.post(&queue, &json!({})).await;
        ensure!(res.status == 200, "joining the queue: {}", res.text);
        ensure!(
            res.json()["position"] == place,
            "the visitor joining #{place} got {}",
            res.text
        );
    }
    // Booking without a pass is refused: the browser's booking below goes through on its pass.
    let res = e2e::try_book(&ahead[0], event, 1).await;
    ensure!(
        res.status == 403 && res.text.contains("queue_pass_required"),
        "a booking without a pass was answered {}: {}",
        res.status,
        res.text
    );

    // The event page says there is a waiting room; its link joins it.
    b.goto(&format!("{base}/events/{event}")).await?;
    b.wait_for("[data-testid=on-sale-at]", WAIT).await?;
    b.click(
        &b.wait_for_text("[data-testid=queue-notice] a", "Join the queue", WAIT)
            .await?,
    )
    .await?;
    b.wait_for_url(&format!("/events/{event}/queue"), WAIT)
        .await?;
    b.wait_for_text("#queue-h", "Waiting room", WAIT).await?;
    let place = figure(b, "[data-testid=queue-position]").await?;
    ensure!(
        place == "#3",
        "the buyer's place reads {place:?}, not #3 ({:.1?} after the opening)",
        opened.elapsed()
    );
    wait_for_figure(b, "[data-testid=queue-wait]", "Less than a minute.").await?;
    eprintln!(
        "the buyer saw their place {:.1?} after the opening",
        opened.elapsed()
    );
    shots.take(b, "queue-waiting", None, false).await?;

    // The line moves: one or two places ahead let in, the buyer still waiting.
    let progress = "label[for=queue-progress]";
    let deadline = Instant::now() + WAIT;
    loop {
        let Some(label) = b.find_all(progress).await?.into_iter().next() else {
            anyhow::bail!("the buyer left the waiting room before the line was seen moving");
        };
        let bar = b.text(&label).await?;
        if bar.ends_with("33%") || bar.ends_with("66%") {
            break;
        }
        ensure!(
            bar.ends_with("0%") && Instant::now() < deadline,
            "the waiting room's bar reads {bar:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Admitted: back on the event page, holding the pass for this tab.
    b.wait_for_text(
        "[data-testid=queue-pass]",
        "You're through the waiting room",
        WAIT,
    )
    .await?;
    let url = b.url().await?;
    ensure!(
        url.ends_with(&format!("/events/{event}")),
        "admitted to {url}"
    );
    let kept = b
        .execute(
            "return sessionStorage.getItem(arguments[0]) || '';",
            vec![json!(format!("queue.{event}.pass"))],
        )
        .await?;
    ensure!(
        kept.as_str().is_some_and(|k| k.contains("\"pass\"")),
        "the tab keeps no pass: {kept}"
    );
    eprintln!(
        "the buyer was admitted {:.1?} after the opening",
        opened.elapsed()
    );
    shots.take(b, "queue-admitted", None, false).await?;

    // Book one seat: the booking sends the pass, and the order page follows.
    b.click_on("button[aria-label='One more General']", WAIT)
        .await?;
    b.wait_for_text(".order-total", "$20.00", WAIT).await?;
    b.click_on("[data-testid=book]", WAIT).await?;
    b.wait_for_url("/orders/", WAIT).await?;
    b.wait_for_text("#order-title", "Complete your booking", WAIT)
        .await?;
    b.wait_for("[data-testid=countdown]", WAIT).await?;
    b.wait_for_text(".order-summary", "1 × General", WAIT)
        .await?;
    b.wait_for_text(".order-summary", "$20.00", WAIT).await?;
    shots.take(b, "queue-order", None, false).await
}

/// Where the screenshots go: a temp dir always, `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`.
struct Shots {
    dir: PathBuf,
    docs: Option<PathBuf>,
}

impl Shots {
    fn new() -> Self {
        // Emptied once per run, not per journey: the journeys run side by side into one folder.
        static EMPTIED: std::sync::Once = std::sync::Once::new();
        let dir = std::env::temp_dir().join("ticketing-browser-screenshots");
        EMPTIED.call_once(|| {
            let _ = std::fs::remove_dir_all(&dir);
        });
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let docs = (std::env::var("UPDATE_SCREENSHOTS").as_deref() == Ok("1")).then(|| {
            let d = workspace_root().join("docs/screenshots");
            std::fs::create_dir_all(&d).expect("docs/screenshots");
            d
        });
        Self { dir, docs }
    }

    /// Photographs the viewport as `name.png`: scrolled to `at` (centred) or to the top, with
    /// nothing focused or hovered. `docs`: one of the README's.
    async fn take(
        &self,
        b: &Browser,
        name: &str,
        at: Option<&str>,
        docs: bool,
    ) -> anyhow::Result<()> {
        b.execute(
            "if (document.activeElement) { document.activeElement.blur(); }",
            vec![],
        )
        .await?;
        let height = b.execute("return window.innerHeight;", vec![]).await?;
        let bottom = height.as_u64().unwrap_or(1).saturating_sub(1);
        b.mouse_to(0, u32::try_from(bottom).unwrap_or(0)).await?;
        match at {
            Some(css) => b.scroll_to(&b.wait_for(css, WAIT).await?).await?,
            None => b
                .execute("window.scrollTo(0, 0);", vec![])
                .await
                .map(drop)?,
        }
        let png = b.screenshot_png().await?;
        let file = format!("{name}.png");
        std::fs::write(self.dir.join(&file), &png)?;
        if docs && let Some(d) = &self.docs {
            std::fs::write(d.join(&file), &png)?;
        }
        Ok(())
    }

    /// The same page at desktop size (`name`) and at phone width (`name-phone`).
    async fn take_both(&self, b: &Browser, name: &str, at: Option<&str>) -> anyhow::Result<()> {
        self.take(b, name, at, true).await?;
        set_viewport(b, PHONE, true).await?;
        let phone = self.take(b, &format!("{name}-phone"), at, true).await;
        set_viewport(b, DESKTOP, false).await?;
        phone
    }
}

/// Sets the viewport and waits until the page has been laid out for it.
async fn set_viewport(b: &Browser, (w, h): (u32, u32), mobile: bool) -> anyhow::Result<()> {
    b.viewport(w, h, mobile).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let width = b.execute("return window.innerWidth;", vec![]).await?;
        if width.as_u64() == Some(u64::from(w)) {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "the viewport is {width} wide, not {w}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An event published through the API: title, category, venue, city, days from now and its
/// ticket types (name, price, seats).
struct Seed(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static [(&'static str, u32, u32)],
);

/// A few published events of another organizer, so the list has something to filter out.
const SEEDS: [Seed; 5] = [
    Seed(
        "Lisbon Jazz Weekend",
        "Music",
        "Hot Clube",
        "Lisbon",
        12,
        &[("Day pass", 35, 300)],
    ),
    Seed(
        "Stand-up at the Docks",
        "Comedy",
        "Armazém 16",
        "Lisbon",
        9,
        &[("Seat", 18, 120)],
    ),
    Seed(
        "Systems Programming Summit",
        "Conference",
        "Alfândega Congress Centre",
        "Porto",
        40,
        &[("Standard", 240, 400), ("Student", 90, 50)],
    ),
    Seed(
        "City Half Marathon",
        "Sports",
        "Avenida dos Aliados",
        "Porto",
        25,
        &[("Runner", 30, 2000)],
    ),
    Seed(
        "Screen Printing Workshop",
        "Workshop",
        "Oficina Gráfica",
        "Lisbon",
        16,
        &[("Place", 45, 12)],
    ),
];

async fn seed_other_events(system: &System) {
    let organizer = system.sign_up("Sam").await;
    for seed in &SEEDS {
        seed_event(&organizer, seed).await;
    }
}

async fn seed_event(organizer: &TestClient, seed: &Seed) {
    let Seed(title, category, venue, city, days, types) = *seed;
    let capacity: u32 = types.iter().map(|t| t.2).sum();
    let ticket_types: Vec<_> = types
        .iter()
        .map(|(name, price, quantity)| {
            json!({"name": name, "price": price, "quantity": quantity, "description": ""})
        })
        .collect();
    let date = (Utc::now() + chrono::Duration::days(days))
        .date_naive()
        .and_hms_opt(19, 30, 0)
        .expect("a time")
        .and_utc();
    let res = organizer
        .post(
            "/api/events",
            &json!({
                "title": title,
                "description": format!("{title}: see you there."),
                "category": category,
                "venue": {"name": venue, "address": "1 Main St", "city": city, "capacity": capacity},
                "dateTime": date.to_rfc3339(),
                "duration": 120,
                "ticketTypes": ticket_types,
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

/// Says where the browser was and what it showed when a step failed.
/// Ends `browser`'s session and returns what `outcome` holds; a failed outcome is reported
/// first (see [`report_failure`]) and fails the test, naming `what`.
async fn finish<T>(browser: Browser, shots: &Shots, what: &str, outcome: anyhow::Result<T>) -> T {
    match outcome {
        Ok(done) => {
            browser.quit().await;
            done
        }
        Err(e) => {
            report_failure(&browser, shots).await;
            browser.quit().await;
            panic!("{what} failed: {e:#}");
        }
    }
}

async fn report_failure(browser: &Browser, shots: &Shots) {
    let shot = shots.dir.join("failure.png");
    if browser.screenshot(&shot).await.is_ok() {
        eprintln!("browser test failed; screenshot at {}", shot.display());
    }
    if let Ok(url) = browser.url().await {
        eprintln!("address at failure: {url}");
    }
    if let Ok(html) = browser
        .execute("return document.body.innerText;", vec![])
        .await
    {
        eprintln!(
            "page text at failure:\n{}",
            html.as_str().unwrap_or_default()
        );
    }
}

/// The whole journey; returns the id of the event the organizer created and the buyer's
/// tickets.
async fn journey(b: &Browser, system: &System, shots: &Shots) -> anyhow::Result<(String, Tickets)> {
    set_viewport(b, DESKTOP, false).await?;
    let base = system.gateway.url();
    organizer_creates_event(b, &base, shots)
        .await
        .context("the organizer's part")?;
    let event_id = buyer_finds_and_books(b, system, shots)
        .await
        .context("the buyer finding and booking")?;
    let (reference, tickets) = buyer_pays(b, shots).await.context("the buyer paying")?;
    buyer_sees_orders(b, &base, &event_id, &reference, shots)
        .await
        .context("the buyer's orders and the reload")?;
    switch_to(b, &base, "olga@example.com", "Olga Organizer").await?;
    organizer_checks_in(b, &tickets, shots)
        .await
        .context("the organizer's staff and check-in scanner")?;
    organizer_refunds(b, &reference, shots)
        .await
        .context("the organizer's dashboard and refund")?;
    scanner_refuses_refunded(b, &tickets.plain[1], shots)
        .await
        .context("the scanner after the refund")?;
    buyer_sees_refund(b, &base, &reference, shots)
        .await
        .context("the buyer's refunded order")?;
    Ok((event_id, tickets))
}

async fn register(b: &Browser, first: &str, last: &str, email: &str) -> anyhow::Result<()> {
    b.fill_in("#reg-firstName", first, WAIT).await?;
    b.fill_in("#reg-lastName", last, WAIT).await?;
    b.fill_in("#reg-email", email, WAIT).await?;
    b.fill_in("#reg-password", PASSWORD, WAIT).await
}

/// Signs in on the login page and waits for the header to greet `name`.
async fn log_in(b: &Browser, base: &str, email: &str, name: &str) -> anyhow::Result<()> {
    b.goto(&format!("{base}/login")).await?;
    b.fill_in("#login-email", email, WAIT).await?;
    b.fill_in("#login-password", PASSWORD, WAIT).await?;
    b.type_into(&b.wait_for("#login-password", WAIT).await?, ENTER)
        .await?;
    b.wait_for_text("[data-testid=user-name]", name, WAIT)
        .await
        .map(drop)
}

/// Signs the current user out and `email` in.
async fn switch_to(b: &Browser, base: &str, email: &str, name: &str) -> anyhow::Result<()> {
    log_out(b).await?;
    log_in(b, base, email, name).await
}

/// Follows the header's `label` link to the page at `path`.
async fn open_from_header(b: &Browser, label: &str, path: &str) -> anyhow::Result<()> {
    b.click(&b.wait_for_text("nav a", label, WAIT).await?)
        .await?;
    b.wait_for_url(path, WAIT).await.map(drop)
}

/// Logs out from the header and waits until the app shows it.
async fn log_out(b: &Browser) -> anyhow::Result<()> {
    b.click(&b.wait_for_text(".account button", "Log out", WAIT).await?)
        .await?;
    b.wait_for_text(".account a", "Sign up", WAIT).await?;
    b.wait_until_gone("[data-testid=user-name]", "", WAIT).await
}

async fn organizer_creates_event(b: &Browser, base: &str, shots: &Shots) -> anyhow::Result<()> {
    // Sign up.
    b.goto(&format!("{base}/register")).await?;
    register(b, "Olga", "Organizer", "olga@example.com").await?;
    shots.take(b, "01-register", None, false).await?;
    b.click_on("[data-testid=register]", WAIT).await?;
    b.wait_for_text("[data-testid=user-name]", "Olga Organizer", WAIT)
        .await?;

    // Create event, from the header.
    b.click(&b.wait_for_text("nav a", "Create event", WAIT).await?)
        .await?;
    b.wait_for_url("/events/new", WAIT).await?;
    b.fill_in("#ev-title", TITLE, WAIT).await?;
    b.fill_in(
        "#ev-description",
        "Four fadistas, two guitars and the river at sunset. Doors open 30 minutes early.",
        WAIT,
    )
    .await?;
    b.select(&b.wait_for("#ev-category", WAIT).await?, "Music")
        .await?;
    // A `datetime-local` value: a month ahead, 8 pm in the browser's zone.
    let starts = (Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%dT20:00")
        .to_string();
    b.set_value(&b.wait_for("#ev-dateTime", WAIT).await?, &starts)
        .await?;
    b.fill_in("#ev-duration", "150", WAIT).await?;
    b.fill_in("#ev-venue-name", "Casa do Rio", WAIT).await?;
    b.fill_in("#ev-venue-city", "Lisbon", WAIT).await?;
    b.fill_in("#ev-venue-address", "Cais do Sodré 12", WAIT)
        .await?;
    b.fill_in("#ev-venue-capacity", "200", WAIT).await?;
    // Two ticket types: the first row is there, the second is added.
    fill_ticket_type(b, 0, "General", "25", "50", "Standing, by the bar").await?;
    b.click(&b.wait_for_text("button", "+ Add ticket type", WAIT).await?)
        .await?;
    fill_ticket_type(b, 1, "VIP", "80", "10", "Table by the stage").await?;
    b.fill_in("#ev-organizer-phone", "+351 210 000 000", WAIT)
        .await?;
    shots.take(b, "02-create-event", None, true).await?;
    shots
        .take(b, "03-create-event-tickets", Some("#ev-ticketTypes"), true)
        .await?;
    b.click_on("[data-testid=publish]", WAIT).await?;

    // My events lists it, published, nothing sold yet.
    b.wait_for_url("/my/events", WAIT).await?;
    let card = b
        .wait_for_text("[data-testid=my-event]", TITLE, WAIT)
        .await?;
    let text = b.text(&card).await?;
    for part in [
        "Published",
        "General",
        "VIP",
        "0 / 50",
        "0 / 10",
        "Casa do Rio",
    ] {
        ensure!(text.contains(part), "My events card lacks {part:?}: {text}");
    }
    shots.take(b, "04-my-events", None, true).await?;

    // Log out: back to the list, signed out.
    log_out(b).await
}

async fn fill_ticket_type(
    b: &Browser,
    i: usize,
    name: &str,
    price: &str,
    quantity: &str,
    description: &str,
) -> anyhow::Result<()> {
    for (field, value) in [
        ("name", name),
        ("price", price),
        ("quantity", quantity),
        ("description", description),
    ] {
        b.fill_in(&format!("#ev-tt-{i}-{field}"), value, WAIT)
            .await?;
    }
    Ok(())
}

/// Returns the event's id.
async fn buyer_finds_and_books(
    b: &Browser,
    system: &System,
    shots: &Shots,
) -> anyhow::Result<String> {
    // Sign up from the header.
    b.click(&b.wait_for_text(".account a", "Sign up", WAIT).await?)
        .await?;
    b.wait_for_url("/register", WAIT).await?;
    register(b, "Ada", "Lovelace", "ada@example.com").await?;
    b.click_on("[data-testid=register]", WAIT).await?;
    b.wait_for_text("[data-testid=user-name]", "Ada Lovelace", WAIT)
        .await?;

    // The list: every published event, prices loaded.
    b.wait_for_count("[data-testid=event-card]", 6, WAIT)
        .await?;
    b.wait_for_text("[data-testid=event-card]", TITLE, WAIT)
        .await?;
    b.wait_for_text(".result-count", "6 events", WAIT).await?;
    // The header marks where one is.
    let here = b.wait_for("nav a[aria-current=page]", WAIT).await?;
    let label = b.text(&here).await?;
    ensure!(
        label == "Events",
        "the header marks {label:?} as the current page"
    );
    shots.take_both(b, "05-events", None).await?;

    // Filter: the Music category (a choice applies at once), then a search.
    b.select(&b.wait_for("#f-category", WAIT).await?, "Music")
        .await?;
    b.wait_for_url("category=Music", WAIT).await?;
    b.wait_for_count("[data-testid=event-card]", 2, WAIT)
        .await?;
    b.wait_for_text("[data-testid=event-card]", "Lisbon Jazz Weekend", WAIT)
        .await?;
    b.fill_in("#f-q", &format!("river{ENTER}"), WAIT).await?;
    b.wait_for_url("q=river", WAIT).await?;
    let cards = b
        .wait_for_count("[data-testid=event-card]", 1, WAIT)
        .await?;
    let card = b.text(&cards[0]).await?;
    ensure!(
        card.contains(TITLE),
        "the one result is not the event: {card}"
    );
    for part in ["Music", "Casa do Rio, Lisbon", "From $25.00"] {
        ensure!(card.contains(part), "the card lacks {part:?}: {card}");
    }
    b.wait_for_text(".result-count", "1 event", WAIT).await?;
    shots.take(b, "06-events-filtered", None, true).await?;

    // Open it.
    b.click(&b.wait_for_text(".event-card-title a", TITLE, WAIT).await?)
        .await?;
    b.wait_for_text("#event-title", TITLE, WAIT).await?;
    let url = b.wait_for_url("/events/", WAIT).await?;
    let event_id = url
        .rsplit("/events/")
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    ensure!(
        uuid::Uuid::parse_str(&event_id).is_ok(),
        "no event id in {url}"
    );
    let facts = b.text(&b.wait_for(".facts", WAIT).await?).await?;
    for part in [
        "150 min",
        "Casa do Rio, Cais do Sodré 12, Lisbon",
        "Olga Organizer",
        "olga@example.com",
        "+351 210 000 000",
        "200 people",
    ] {
        ensure!(facts.contains(part), "the facts lack {part:?}: {facts}");
    }
    b.wait_for_text("[data-testid=ticket-type]", "50 available", WAIT)
        .await?;
    b.wait_for_text("[data-testid=ticket-type]", "Only 10 left", WAIT)
        .await?;

    // Live availability: someone else books 3 General seats; the open page follows.
    let other = system.sign_up("Bruno").await;
    let res = other
        .post(
            "/api/tickets/book",
            &json!({"eventId": event_id, "tickets": [{"ticketType": "General", "quantity": 3}]}),
        )
        .await;
    ensure!(res.status == 201, "booking from the API: {}", res.text);
    b.wait_for_text("[data-testid=ticket-type]", "47 available", WAIT)
        .await?;
    b.wait_for_text(".live-note", "Availability updates live", WAIT)
        .await?;
    shots.take_both(b, "07-event-detail", None).await?;

    // Two General tickets with the stepper; the buyer's details are pre-filled.
    let more = b
        .wait_for("button[aria-label='One more General']", WAIT)
        .await?;
    b.click(&more).await?;
    b.click(&more).await?;
    let qty = b.wait_for("#qty-0", WAIT).await?;
    let value = b.property(&qty, "value").await?;
    ensure!(value == "2", "quantity shows {value}, not 2");
    let filled = b
        .property(&b.wait_for("#c-email", WAIT).await?, "value")
        .await?;
    ensure!(
        filled == "ada@example.com",
        "email pre-filled with {filled}"
    );
    b.wait_for_text(".order-total", "$50.00", WAIT).await?;
    shots
        .take(b, "08-booking", Some("[data-testid=book]"), true)
        .await?;
    // Book from the keyboard: Enter in a field submits the form.
    b.type_into(&b.wait_for("#c-phone", WAIT).await?, ENTER)
        .await?;
    b.wait_for_url("/orders/", WAIT).await?;
    Ok(event_id)
}

async fn fill_card(b: &Browser, number: &str) -> anyhow::Result<()> {
    b.fill_in("#pay-cardholderName", "Ada Lovelace", WAIT)
        .await?;
    b.fill_in("#pay-cardNumber", number, WAIT).await?;
    b.select(&b.wait_for("#pay-expiryMonth", WAIT).await?, "12")
        .await?;
    let year = (Utc::now() + chrono::Duration::days(800))
        .format("%Y")
        .to_string();
    b.select(&b.wait_for("#pay-expiryYear", WAIT).await?, &year)
        .await?;
    b.fill_in("#pay-cvc", "123", WAIT).await
}

/// A paid order's tickets: the plain code printed on each, and the signed code its QR code
/// carries.
struct Tickets {
    plain: Vec<String>,
    signed: Vec<String>,
    /// The first ticket's QR code as the page draws it, as a grey camera frame.
    first_qr_frame: Vec<u8>,
}

/// Returns the booking reference and the tickets.
async fn buyer_pays(b: &Browser, shots: &Shots) -> anyhow::Result<(String, Tickets)> {
    // The pending order: a countdown and the payment form.
    b.wait_for_text("#order-title", "Complete your booking", WAIT)
        .await?;
    b.wait_for("[data-testid=countdown]", WAIT).await?;
    b.wait_for_text(".order-summary", "2 × General", WAIT)
        .await?;
    b.wait_for_text(".order-summary", "$50.00", WAIT).await?;

    // The decline card: refused, with the reason, and the seats still held.
    fill_card(b, "4000 0000 0000 0002").await?;
    shots.take(b, "09-payment", None, true).await?;
    // Pay from the keyboard.
    b.type_into(&b.wait_for("#pay-cvc", WAIT).await?, ENTER)
        .await?;
    let declined = b
        .wait_for("[data-testid=payment-declined]", PAYMENT_WAIT)
        .await?;
    let text = b.text(&declined).await?;
    ensure!(
        text.contains("Payment declined.") && text.contains("Your card was declined."),
        "the decline and its reason are not shown: {text}"
    );
    b.wait_for("[data-testid=countdown]", WAIT).await?;
    shots
        .take(
            b,
            "10-payment-declined",
            Some("[data-testid=payment-declined]"),
            true,
        )
        .await?;

    // Try again with the card that is approved, paying with the button this time.
    b.click_on("[data-testid=retry]", WAIT).await?;
    fill_card(b, "4242 4242 4242 4242").await?;
    b.click_on("[data-testid=pay]", WAIT).await?;

    // The result: booking reference and two ticket codes, each with a QR code.
    b.wait_for("[data-testid=payment-success]", PAYMENT_WAIT)
        .await?;
    b.wait_for_text("#order-title", "You're going!", WAIT)
        .await?;
    let reference = b
        .text(&b.wait_for("[data-testid=booking-reference]", WAIT).await?)
        .await?
        .trim()
        .to_string();
    ensure!(!reference.is_empty(), "no booking reference shown");
    b.wait_for_text("[data-testid=payment-success]", &reference, WAIT)
        .await?;
    let codes = b
        .wait_for_count("[data-testid=ticket-code]", 2, WAIT)
        .await?;
    let mut plain = Vec::new();
    for code in &codes {
        let text = b.text(code).await?.trim().to_string();
        ensure!(!text.is_empty(), "an empty ticket code");
        plain.push(text);
    }
    b.wait_for_count(".qr svg", 2, WAIT).await?;
    let mut signed = Vec::new();
    for qr in b.wait_for_count("[data-testid=ticket-qr]", 2, WAIT).await? {
        let data = attribute(b, &qr, "data-qr").await?;
        ensure!(
            data.starts_with("T1."),
            "a QR code carries {data:?}, not a signed code"
        );
        signed.push(data);
    }
    let first_qr_frame = qr_frame(b).await?;
    shots
        .take(b, "11-order-confirmed", Some("[data-testid=tickets]"), true)
        .await?;
    Ok((
        reference,
        Tickets {
            plain,
            signed,
            first_qr_frame,
        },
    ))
}

/// The fake camera's frame size.
const FRAME: (usize, usize) = (640, 480);

/// Draws the first ticket's QR code (the path of the page's SVG, filled on a canvas: no image
/// is loaded, whatever the page's CSP says) into a white 640x480 frame, as grey bytes.
async fn qr_frame(b: &Browser) -> anyhow::Result<Vec<u8>> {
    let qr = b.wait_for("[data-testid=ticket-qr]", WAIT).await?;
    let v = b
        .execute(
            "const svg = arguments[0].querySelector('svg');
             const [w, h] = [arguments[1], arguments[2]];
             const c = document.createElement('canvas');
             c.width = w; c.height = h;
             const g = c.getContext('2d');
             g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
             const side = 400, s = side / svg.viewBox.baseVal.width;
             g.setTransform(s, 0, 0, s, (w - side) / 2, (h - side) / 2);
             g.fillStyle = '#000';
             g.fill(new Path2D(svg.querySelector('path').getAttribute('d')));
             const d = g.getImageData(0, 0, w, h).data;
             const out = new Array(w * h);
             for (let i = 0; i < out.length; i++) out[i] = d[4 * i];
             return out;",
            vec![Browser::arg(&qr), json!(FRAME.0), json!(FRAME.1)],
        )
        .await?;
    let grey: Vec<u8> = v
        .as_array()
        .map(|a| a.iter().map(|p| p.as_u64().unwrap_or(255) as u8).collect())
        .unwrap_or_default();
    ensure!(
        grey.len() == FRAME.0 * FRAME.1 && grey.contains(&0),
        "the QR code was not drawn into a frame ({} pixels)",
        grey.len()
    );
    Ok(grey)
}

/// Chromium switches for a camera that films `tickets`' first QR code: a one-frame Y4M video
/// (4:2:0, grey) written next to the screenshots.
fn fake_camera(dir: &Path, tickets: &Tickets) -> Vec<String> {
    let (w, h) = FRAME;
    let mut video = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\nFRAME\n").into_bytes();
    video.extend_from_slice(&tickets.first_qr_frame);
    video.resize(video.len() + w * h / 2, 128);
    let file = dir.join("fake-camera.y4m");
    std::fs::write(&file, video).expect("the fake camera's video is written");
    vec![
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-video-capture={}", file.display()),
    ]
}

/// The organizer starts the scanner's camera, which reads the first ticket's QR code (the
/// signed code) by itself; the server answers for that ticket: refunded by now.
async fn camera_scan(
    b: &Browser,
    system: &System,
    event_id: &str,
    tickets: &Tickets,
    shots: &Shots,
) -> anyhow::Result<()> {
    let base = system.gateway.url();
    log_in(b, &base, "olga@example.com", "Olga Organizer").await?;
    b.goto(&format!("{base}/events/{event_id}/checkin")).await?;
    b.click_on("[data-testid=camera-start]", WAIT).await?;
    let state = b
        .wait_for_text("[data-testid=camera-state]", "read by", WAIT)
        .await?;
    let reader = b.text(&state).await?;
    let answer = b
        .wait_for_text(
            "[data-testid=checkin-result][data-result=refunded]",
            &tickets.plain[0],
            WAIT,
        )
        .await?;
    let text = b.text(&answer).await?;
    ensure!(
        text.contains("Refunded ticket"),
        "the camera's scan answered {text:?}"
    );
    eprintln!("the camera's QR code was {reader:?}");
    shots.take(b, "24-checkin-camera", None, false).await?;
    b.click_on("[data-testid=camera-stop]", WAIT).await?;
    b.wait_for("[data-testid=camera-start]", WAIT).await?;
    Ok(())
}

async fn buyer_sees_orders(
    b: &Browser,
    base: &str,
    event_id: &str,
    reference: &str,
    shots: &Shots,
) -> anyhow::Result<()> {
    // My orders: the confirmed order with its tickets.
    open_from_header(b, "My orders", "/my/orders").await?;
    let card = b.wait_for_text(".order-card", reference, WAIT).await?;
    let text = b.text(&card).await?;
    for part in [TITLE, "Confirmed", "2 × General", "$50.00"] {
        ensure!(text.contains(part), "the order lacks {part:?}: {text}");
    }
    b.wait_for_count(".order-card [data-testid=ticket-code]", 2, WAIT)
        .await?;
    b.wait_for_count(".order-card .qr svg", 2, WAIT).await?;
    shots.take(b, "12-my-orders", None, true).await?;

    // A reload of a deep link renders the page (SPA fallback), still signed in.
    b.goto(&format!("{base}/events/{event_id}")).await?;
    b.wait_for_text("#event-title", TITLE, WAIT).await?;
    b.wait_for_text("[data-testid=user-name]", "Ada Lovelace", WAIT)
        .await?;
    // 50 General: 2 sold to Ada, 3 held for Bruno.
    b.wait_for_text("[data-testid=ticket-type]", "45 available", WAIT)
        .await?;
    Ok(())
}

/// Waits until the first element matching `css` reads exactly `want` (a figure such as a count,
/// where "contains" would let `10` pass for `1`).
async fn wait_for_figure(b: &Browser, css: &str, want: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = figure(b, css).await?;
        if got == want {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "`{css}` reads {got:?}, not {want:?}, after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of the first element matching `css`, trimmed.
async fn figure(b: &Browser, css: &str) -> anyhow::Result<String> {
    let el = b.wait_for(css, WAIT).await?;
    Ok(b.text(&el).await.unwrap_or_default().trim().to_string())
}

/// The text of the first element matching `css`, once it contains `part`.
async fn text_with(b: &Browser, css: &str, part: &str) -> anyhow::Result<String> {
    let el = b.wait_for_text(css, part, WAIT).await?;
    b.text(&el).await
}

/// From My events to the event's dashboard.
async fn open_dashboard(b: &Browser) -> anyhow::Result<()> {
    open_from_header(b, "My events", "/my/events").await?;
    b.wait_for_text("[data-testid=my-event]", TITLE, WAIT)
        .await?;
    b.click_on("[data-testid=open-dashboard]", WAIT).await?;
    b.wait_for_url("/my/events/", WAIT).await?;
    b.wait_for_text("#dashboard-title", TITLE, WAIT)
        .await
        .map(drop)
}

/// Types `typed` into the scanner's manual field, sends it, and waits for this scan's answer
/// (the box's `data-scan` number changes with every answer), which must be `result` and name
/// the ticket `code`; returns its text.
async fn scan_typed(b: &Browser, typed: &str, code: &str, result: &str) -> anyhow::Result<String> {
    let box_css = "[data-testid=checkin-result]";
    let before = attribute(b, &b.wait_for(box_css, WAIT).await?, "data-scan").await?;
    let field = b.wait_for("[data-testid=checkin-code]", WAIT).await?;
    b.fill(&field, typed).await?;
    b.type_into(&field, ENTER).await?;
    let next = format!("{box_css}:not([data-scan='{before}'])");
    let answer = b.text(&b.wait_for(&next, WAIT).await?).await?;
    let got = attribute(b, &b.wait_for(box_css, WAIT).await?, "data-result").await?;
    ensure!(
        got == result && answer.contains(code),
        "scanning {typed:?} answered {got:?}, not {result:?} for {code}: {answer}"
    );
    Ok(answer)
}

/// `signed` with one character of its signature changed.
fn forge(signed: &str) -> String {
    let mut chars: Vec<char> = signed.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// An attribute of an element ("" when absent).
async fn attribute(b: &Browser, el: &str, name: &str) -> anyhow::Result<String> {
    let v = b
        .execute(
            "return arguments[0].getAttribute(arguments[1]) || '';",
            vec![Browser::arg(el), json!(name)],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Emulates the network going away (`navigator.onLine` false, requests fail) or coming back.
async fn set_offline(b: &Browser, offline: bool) -> anyhow::Result<()> {
    b.cdp("Network.enable", json!({})).await?;
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await
    .map(drop)
}

async fn organizer_checks_in(b: &Browser, tickets: &Tickets, shots: &Shots) -> anyhow::Result<()> {
    let codes = &tickets.plain;
    ensure!(codes.len() == 2, "two ticket codes expected: {codes:?}");
    open_dashboard(b).await?;

    // Check-in staff: named by email, listed, removed.
    b.wait_for("[data-testid=staff-empty]", WAIT).await?;
    b.fill_in("[data-testid=staff-email]", "door@example.com", WAIT)
        .await?;
    b.click_on("[data-testid=staff-add]", WAIT).await?;
    b.wait_for_text("[data-testid=staff-member]", "door@example.com", WAIT)
        .await?;
    b.wait_for_text("[data-testid=staff-scanner-link]", "/checkin", WAIT)
        .await?;
    shots
        .take(
            b,
            "18-checkin-staff",
            Some("[data-testid=checkin-staff]"),
            false,
        )
        .await?;
    b.click_on("[data-testid=staff-remove]", WAIT).await?;
    b.wait_for("[data-testid=staff-empty]", WAIT).await?;

    // The scanner, from the dashboard; it downloads the offline list first.
    b.click_on("[data-testid=open-scanner]", WAIT).await?;
    b.wait_for_url("/checkin", WAIT).await?;
    b.wait_for_text(
        "[data-testid=checkin-list]",
        "Offline list: 2 tickets",
        WAIT,
    )
    .await?;
    wait_for_figure(b, "[data-testid=checkin-counter]", "0 / 2").await?;
    b.fill_in("[data-testid=checkin-gate]", "North gate", WAIT)
        .await?;

    // The first ticket, typed in lower case as people do: green with the holder, then amber.
    let green = scan_typed(b, &codes[0].to_lowercase(), &codes[0], "ok").await?;
    for part in ["Valid: let them in", "Ada Lovelace", "General"] {
        ensure!(
            green.contains(part),
            "the green answer lacks {part:?}: {green}"
        );
    }
    wait_for_figure(b, "[data-testid=checkin-counter]", "1 / 2").await?;
    shots.take(b, "19-checkin-ok", None, true).await?;
    let amber = scan_typed(b, &codes[0], &codes[0], "already_checked_in").await?;
    for part in [
        "Already checked in",
        "Ada Lovelace",
        "First checked in",
        "North gate",
    ] {
        ensure!(
            amber.contains(part),
            "the amber answer lacks {part:?}: {amber}"
        );
    }
    shots.take(b, "20-checkin-already", None, true).await?;

    // Offline: the second ticket's signed code (as its QR code carries it, pasted) is checked
    // in the browser against the event's public key, decided from the kept list and queued.
    set_offline(b, true).await?;
    b.wait_for_text(
        "[data-testid=checkin-connection]",
        "Offline, 0 queued",
        WAIT,
    )
    .await?;
    let offline = scan_typed(b, &tickets.signed[1], &codes[1], "ok").await?;
    for part in ["Decided offline", "General"] {
        ensure!(
            offline.contains(part),
            "the offline answer lacks {part:?}: {offline}"
        );
    }
    // A forged signature is refused offline too, and nothing is queued for it.
    let forged = forge(&tickets.signed[1]);
    let refused = scan_typed(b, &forged, "Not a valid ticket", "invalid").await?;
    ensure!(
        !refused.contains(&codes[1]),
        "a forged code named the ticket: {refused}"
    );
    b.wait_for_text(
        "[data-testid=checkin-connection]",
        "Offline, 1 queued",
        WAIT,
    )
    .await?;
    wait_for_figure(b, "[data-testid=checkin-counter]", "2 / 2").await?;
    scan_typed(b, &codes[1], &codes[1], "already_checked_in").await?;
    b.wait_for_text(
        "[data-testid=checkin-connection]",
        "Offline, 1 queued",
        WAIT,
    )
    .await?;
    shots.take(b, "21-checkin-offline", None, true).await?;

    // Back online: the queue goes up and the server's answer is shown.
    set_offline(b, false).await?;
    let synced = b
        .wait_for_text("[data-testid=synced-scan][data-result=ok]", &codes[1], WAIT)
        .await?;
    let synced = b.text(&synced).await?;
    ensure!(
        synced.contains("Ada Lovelace"),
        "the uploaded scan lacks the holder: {synced}"
    );
    wait_for_figure(b, "[data-testid=checkin-connection]", "Online").await?;
    wait_for_figure(b, "[data-testid=checkin-counter]", "2 / 2").await?;
    shots.take(b, "22-checkin-synced", None, false).await?;
    Ok(())
}

/// After the refund, the scanner refuses the order's tickets.
async fn scanner_refuses_refunded(b: &Browser, code: &str, shots: &Shots) -> anyhow::Result<()> {
    b.click_on("[data-testid=open-scanner]", WAIT).await?;
    b.wait_for_url("/checkin", WAIT).await?;
    let red = scan_typed(b, code, code, "refunded").await?;
    ensure!(
        red.contains("Refunded ticket"),
        "the red answer reads {red:?}"
    );
    shots.take(b, "23-checkin-refunded", None, false).await?;
    Ok(())
}

async fn organizer_refunds(b: &Browser, reference: &str, shots: &Shots) -> anyhow::Result<()> {
    open_dashboard(b).await?;
    // Both of Ada's tickets came in at the door (one of them offline), through the North gate.
    wait_for_figure(b, "[data-testid=checked-in]", "2 / 2").await?;
    text_with(b, "[data-testid=checkins-by-gate] tbody tr", "North gate").await?;

    // The summary: Ada's 2 General seats paid ($50.00), Bruno's 3 held by his pending order.
    wait_for_figure(b, "[data-testid=gross]", "$50.00").await?;
    wait_for_figure(b, "[data-testid=net]", "$50.00").await?;
    wait_for_figure(b, "[data-testid=orders-confirmed]", "1").await?;
    wait_for_figure(b, "[data-testid=orders-pending]", "1").await?;
    let general = text_with(b, "[data-testid=ticket-type-sales] tbody tr", "General").await?;
    let cells: Vec<&str> = general.split_whitespace().collect();
    ensure!(
        cells == ["General", "50", "2", "3", "45"],
        "General's capacity, sold, held, available read {general:?}"
    );
    // The chart: one day of sales, one bar.
    b.wait_for("[data-testid=sales-chart]", WAIT).await?;
    b.wait_for_count("[data-testid=sales-bar]", 1, WAIT).await?;
    b.wait_for_count("[data-testid=order-row]", 2, WAIT).await?;
    shots.take(b, "13-dashboard", None, true).await?;
    shots
        .take(
            b,
            "14-dashboard-orders",
            Some("[data-testid=orders-table]"),
            true,
        )
        .await?;

    // Find Ada's order by its reference and refund it, after the confirmation.
    b.fill_in("[data-testid=orders-q]", reference, WAIT).await?;
    b.click_on("[data-testid=orders-search]", WAIT).await?;
    b.wait_for_text("[data-testid=orders-total]", "1 order", WAIT)
        .await?;
    let row = b
        .wait_for_count("[data-testid=order-row]", 1, WAIT)
        .await?
        .remove(0);
    let text = b.text(&row).await?;
    for part in [
        reference,
        "Ada Lovelace",
        "ada@example.com",
        "2 × General",
        "$50.00",
    ] {
        ensure!(text.contains(part), "the order row lacks {part:?}: {text}");
    }
    b.click(
        &b.wait_for("[data-testid=order-row] [data-testid=refund]", WAIT)
            .await?,
    )
    .await?;
    let question = text_with(b, "[data-testid=refund-confirmation]", reference).await?;
    ensure!(
        question.contains("Refund $50.00 to Ada Lovelace?"),
        "the confirmation asks {question:?}"
    );
    b.fill_in(
        "[data-testid=refund-reason]",
        "Cannot attend; agreed by phone",
        WAIT,
    )
    .await?;
    shots
        .take(
            b,
            "15-refund-confirmation",
            Some("[data-testid=refund-confirmation]"),
            true,
        )
        .await?;
    b.click_on("[data-testid=refund-confirm]", WAIT).await?;
    b.wait_for_text("[data-testid=dashboard-notice]", "Refund of $50.00", WAIT)
        .await?;
    b.wait_until_gone("[data-testid=refund-confirmation]", "", WAIT)
        .await?;

    // The refund goes through the payment service and back: refresh until the order reads
    // refunded and the figures count it. The list and the figures are two requests, so one
    // refresh may show the order refunded beside figures read a moment before.
    let refunded =
        format!("[data-testid=order-row][data-reference='{reference}'][data-status=refunded]");
    let deadline = Instant::now() + PAYMENT_WAIT;
    while b.find_all(&refunded).await?.is_empty()
        || figure(b, "[data-testid=refunded]").await? != "$50.00"
    {
        ensure!(
            Instant::now() < deadline,
            "the order did not read refunded within {PAYMENT_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.click_on("[data-testid=dashboard-refresh]", WAIT).await?;
    }
    wait_for_figure(b, "[data-testid=refunded]", "$50.00").await?;
    wait_for_figure(b, "[data-testid=net]", "$0.00").await?;
    wait_for_figure(b, "[data-testid=orders-refunded]", "1").await?;
    wait_for_figure(b, "[data-testid=orders-confirmed]", "0").await?;
    shots.take(b, "16-dashboard-refunded", None, false).await?;
    Ok(())
}

async fn buyer_sees_refund(
    b: &Browser,
    base: &str,
    reference: &str,
    shots: &Shots,
) -> anyhow::Result<()> {
    switch_to(b, base, "ada@example.com", "Ada Lovelace").await?;
    open_from_header(b, "My orders", "/my/orders").await?;
    let card = b
        .wait_for_text(
            "[data-testid=order-card][data-status=refunded]",
            reference,
            WAIT,
        )
        .await?;
    let text = b.text(&card).await?;
    for part in [TITLE, "Refunded", "2 × General", "$50.00"] {
        ensure!(
            text.contains(part),
            "the refunded order lacks {part:?}: {text}"
        );
    }
    shots.take(b, "17-my-orders-refunded", None, true).await?;
    Ok(())
}
