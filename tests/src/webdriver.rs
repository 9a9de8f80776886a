//! Just enough of the W3C WebDriver protocol to drive headless Chromium through chromedriver,
//! over the `reqwest` client the tests already use (no extra WebDriver crate to build).

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The W3C key under which an element reference travels.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start(chromedriver: &Path, chrome: &Path) -> anyhow::Result<Self> {
        Self::start_with(chromedriver, chrome, &[]).await
    }

    /// Starts chromedriver and a headless Chromium session with `extra` command-line switches
    /// (e.g. a fake camera).
    pub async fn start_with(
        chromedriver: &Path,
        chrome: &Path,
        extra: &[String],
    ) -> anyhow::Result<Self> {
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so the browser dies with it (see Drop).
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver.display()))?;
        let profile = tempfile::tempdir()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let root = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            http,
            base: root.clone(),
            driver,
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(res) = browser.http.get(format!("{root}/status")).send().await
                && let Ok(v) = res.json::<Value>().await
                && v["value"]["ready"].as_bool() == Some(true)
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=1280,900",
            "--hide-scrollbars",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!(
            "--user-data-dir={}",
            browser._profile.path().display()
        ));
        args.extend_from_slice(extra);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome.display().to_string(),
                "args": args,
            },
        }}});
        let res = browser
            .http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await?;
        let v: Value = res.json().await?;
        let id = v["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session from chromedriver: {v}"))?;
        browser.base = format!("{root}/session/{id}");
        Ok(browser)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await?.json().await?;
        if let Some(err) = v["value"]["error"].as_str() {
            bail!("webdriver {path}: {err}: {}", v["value"]["message"]);
        }
        Ok(v["value"].clone())
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await
            .map(drop)
    }

    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element matching `css` whose text contains `text`, waiting up to `timeout`.
    pub async fn wait_for_text(
        &self,
        css: &str,
        text: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            for el in self.find_all(css).await.unwrap_or_default() {
                if let Ok(t) = self.text(&el).await
                    && t.contains(text)
                {
                    return Ok(el);
                }
            }
            if Instant::now() > deadline {
                bail!("no `{css}` containing {text:?} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<String> {
        self.wait_for_text(css, "", timeout).await
    }

    /// Waits until `css` matches `n` elements.
    pub async fn wait_for_count(
        &self,
        css: &str,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<String>> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.find_all(css).await.unwrap_or_default();
            if found.len() == n {
                return Ok(found);
            }
            if Instant::now() > deadline {
                bail!(
                    "`{css}` matched {} elements, not {n}, after {timeout:?}",
                    found.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, el: &str) -> anyhow::Result<String> {
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub async fn click(&self, el: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    /// Waits (up to `timeout`) for the element `css` and clicks it.
    pub async fn click_on(&self, css: &str, timeout: Duration) -> anyhow::Result<()> {
        self.click(&self.wait_for(css, timeout).await?).await
    }

    /// Types into an element as a person would (key events).
    pub async fn type_into(&self, el: &str, text: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await
        .map(drop)
    }

    /// Keys sent to whatever has focus (e.g. Tab, Enter, Space).
    pub async fn keys(&self, keys: &str) -> anyhow::Result<()> {
        let mut actions = Vec::new();
        for c in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await
        .map(drop)
    }

    /// Moves the mouse to a point of the viewport (e.g. away from what it would hover).
    pub async fn mouse_to(&self, x: u32, y: u32) -> anyhow::Result<()> {
        let moves =
            json!([{"type": "pointerMove", "duration": 0, "origin": "viewport", "x": x, "y": y}]);
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "pointer", "id": "mouse",
                "parameters": {"pointerType": "mouse"}, "actions": moves}]})),
        )
        .await
        .map(drop)
    }

    pub async fn execute(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// An element as a script argument.
    pub fn arg(el: &str) -> Value {
        json!({ ELEMENT: el })
    }

    /// Chooses `value` in a `<select>` and fires `change`, as picking it with the mouse does.
    pub async fn select(&self, el: &str, value: &str) -> anyhow::Result<()> {
        self.set_value(el, value).await
    }

    /// Sets a control's value and fires `input` and `change`, as a date picker or a `<select>`
    /// does (typing into a `datetime-local` field depends on the browser's locale).
    pub async fn set_value(&self, el: &str, value: &str) -> anyhow::Result<()> {
        self.execute(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('input', {bubbles: true})); \
             arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            vec![Self::arg(el), json!(value)],
        )
        .await
        .map(drop)
    }

    /// Replaces what a text field holds: empties it (with an `input` event, so the app sees
    /// it), then types `text` key by key.
    pub async fn fill(&self, el: &str, text: &str) -> anyhow::Result<()> {
        self.set_value(el, "").await?;
        self.type_into(el, text).await
    }

    /// Waits (up to `timeout`) for the text field `css` and fills it with `text`.
    pub async fn fill_in(&self, css: &str, text: &str, timeout: Duration) -> anyhow::Result<()> {
        self.fill(&self.wait_for(css, timeout).await?, text).await
    }

    /// The address the browser shows.
    pub async fn url(&self) -> anyhow::Result<String> {
        let v = self.call(reqwest::Method::GET, "/url", None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits until the address contains `part`; returns it.
    pub async fn wait_for_url(&self, part: &str, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.url().await?;
            if url.contains(part) {
                return Ok(url);
            }
            if Instant::now() > deadline {
                bail!("the address is {url}, not one containing {part:?}, after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no element matching `css` contains `text`.
    pub async fn wait_until_gone(
        &self,
        css: &str,
        text: &str,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut present = false;
            for el in self.find_all(css).await.unwrap_or_default() {
                if self.text(&el).await.is_ok_and(|t| t.contains(text)) {
                    present = true;
                    break;
                }
            }
            if !present {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("`{css}` still contains {text:?} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scrolls so that the element is in the middle of the viewport.
    pub async fn scroll_to(&self, el: &str) -> anyhow::Result<()> {
        self.execute(
            "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
            vec![Self::arg(el)],
        )
        .await
        .map(drop)
    }

    /// A Chrome DevTools command (chromedriver's `goog/cdp/execute`).
    pub async fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
        .await
    }

    /// Makes the viewport exactly `width` x `height` CSS pixels; `mobile` emulates a phone
    /// (the page's `<meta name=viewport>` applies, touch events).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) -> anyhow::Result<()> {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await?;
        self.cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": mobile, "maxTouchPoints": 5}),
        )
        .await
        .map(drop)
    }

    /// The viewport as a PNG.
    pub async fn screenshot_png(&self) -> anyhow::Result<Vec<u8>> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        base64_decode(v.as_str().unwrap_or_default()).context("screenshot is not base64")
    }

    pub async fn property(&self, el: &str, name: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{el}/property/{name}"),
            None,
        )
        .await
    }

    pub async fn screenshot(&self, file: &Path) -> anyhow::Result<()> {
        std::fs::write(file, self.screenshot_png().await?)?;
        Ok(())
    }

    /// Ends the session (closes Chromium).
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and the Chromium it started share a process group.
        unsafe { libc::kill(-(self.driver.id() as i32), libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// Standard base64 (the screenshot encoding), without another dependency.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}
