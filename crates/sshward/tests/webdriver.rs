//! A small synchronous WebDriver (W3C) client for Debian's `chromedriver` and headless
//! Chromium: start a session, navigate, find, click, type, press keys, switch windows,
//! read text and page source, take screenshots.
//!
//! Decision: the dozen commands the console tests use, over the HTTP client the tests
//! already have, rather than `fantoccini`, which would add hyper, an async runtime in the
//! test harness and Mozilla's `webdriver` crate to the build on 2 cores.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// WebDriver's codes of the keys the tests press (W3C WebDriver, "Keyboard actions").
pub const TAB: char = '\u{E004}';
/// The Enter key.
pub const ENTER: char = '\u{E007}';
/// The down arrow.
pub const ARROW_DOWN: char = '\u{E015}';

/// Where Debian puts them.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// True when Chromium and its driver are installed (scripts/test.sh installs them).
pub fn available() -> bool {
    Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists()
}

/// A running chromedriver with one headless Chromium session; both end when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    http: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session.
    pub fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http
            .get(format!("{root}/status"))
            .call()
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         format!("--user-data-dir={}", profile.path().display())],
            },
        }}});
        let mut reply = http
            .post(format!("{root}/session"))
            .send_json(&caps)
            .expect("new session");
        let body: Value = reply.body_mut().read_json().expect("session JSON");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_owned();
        Browser {
            driver,
            base: format!("{root}/session/{id}"),
            http,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|(status, value)| panic!("webdriver {method} {path}: {status} {value}"))
    }

    /// A command's value, or its status and error.
    fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (u16, Value)> {
        let url = format!("{}{path}", self.base);
        let mut reply = match (method, body) {
            ("GET", _) => self.http.get(&url).call(),
            ("DELETE", _) => self.http.delete(&url).call(),
            (_, body) => self
                .http
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
        }
        .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let status = reply.status().as_u16();
        let value: Value = reply.body_mut().read_json().unwrap_or(Value::Null);
        if status < 400 {
            Ok(value["value"].clone())
        } else {
            Err((status, value))
        }
    }

    /// Opens `url` and waits for it to load.
    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// The current page's HTML as the browser holds it.
    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// The first element matching CSS `selector`, waiting up to 10 s for it to appear.
    pub fn find(&self, selector: &str) -> Element<'_> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.try_find(selector) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no element {selector:?} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element matching CSS `selector`, if there is one now.
    pub fn try_find(&self, selector: &str) -> Option<Element<'_>> {
        let url = format!("{}/element", self.base);
        let mut reply = self
            .http
            .post(&url)
            .send_json(json!({"using": "css selector", "value": selector}))
            .ok()?;
        if reply.status() != 200 {
            return None;
        }
        let body: Value = reply.body_mut().read_json().ok()?;
        let id = body["value"][ELEMENT].as_str()?.to_owned();
        Some(Element { browser: self, id })
    }

    /// The text of the first element matching `selector` (found again if the page
    /// replaced it meanwhile).
    pub fn text(&self, selector: &str) -> String {
        for _ in 0..20 {
            let e = self.find(selector);
            match self.try_call("GET", &e.path("/text"), None) {
                Ok(v) => return v.as_str().unwrap_or("").to_owned(),
                Err((_, v)) if v["value"]["error"] == "stale element reference" => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err((status, v)) => panic!("text of {selector}: {status} {v}"),
            }
        }
        panic!("{selector} keeps being replaced")
    }

    /// Waits (up to 15 s) until the first element matching `selector` holds `needle`: after
    /// a click, the page it leads to (the old one may still be showing).
    pub fn wait_for_text(&self, selector: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = self.try_find(selector).map(|_| self.text(selector));
            if let Some(text) = text.filter(|t| t.contains(needle)) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{selector} never held {needle:?} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `script` in the page and returns its result.
    pub fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// The browser's cookies for the current page.
    pub fn cookies(&self) -> Vec<Value> {
        self.call("GET", "/cookie", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the current URL satisfies `ok`.
    pub fn wait_for_url(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let url = self.url();
            if ok(&url) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "never reached {what}; at {url}:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses and releases each key of `keys` in turn, as a person at the keyboard would:
    /// whatever has the focus gets them (characters, or [`TAB`], [`ENTER`], ...).
    pub fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                let k = k.to_string();
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
        self.call("DELETE", "/actions", None);
    }

    /// The handles of the session's windows (tabs).
    pub fn windows(&self) -> Vec<String> {
        self.call("GET", "/window/handles", None)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The handle of the current window.
    pub fn window(&self) -> String {
        self.call("GET", "/window", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Makes window `handle` the one the next commands act on.
    pub fn switch_to(&self, handle: &str) {
        self.call("POST", "/window", Some(json!({ "handle": handle })));
    }

    /// Resizes the window (CSS pixels), e.g. to a phone's 390 x 844.
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Writes a PNG screenshot of the window to `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or(""))
            .expect("screenshot base64");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Clicks it.
    pub fn click(&self) {
        self.browser
            .call("POST", &self.path("/click"), Some(json!({})));
    }

    /// Replaces its value with `text` (a form field).
    pub fn fill(&self, text: &str) {
        self.browser
            .call("POST", &self.path("/clear"), Some(json!({})));
        self.browser
            .call("POST", &self.path("/value"), Some(json!({ "text": text })));
    }

    /// An attribute or property.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.browser
            .call("GET", &self.path(&format!("/property/{name}")), None)
            .as_str()
            .map(str::to_owned)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
