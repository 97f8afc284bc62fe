//! A headless Chromium driven over the DevTools protocol: it opens pages, fills and sends forms
//! as a person would, reads what the page shows, takes screenshots, and keeps every console
//! error, failed load and uncaught exception the pages raise.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel, LogEntrySource};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::listeners::EventStream;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures::{FutureExt, StreamExt};
use serde_json::Value;

/// The desktop viewport, and the phone one some screenshots are also taken at.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// How long a page may take to load or to show what a step waits for.
const DEADLINE: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);
/// How long one script evaluation may take (it fails fast while a page is being replaced).
const EVALUATION: Duration = Duration::from_secs(5);
/// How long one accessibility audit of a page may take.
const AUDIT: Duration = Duration::from_secs(30);

/// Loads allowed to fail on every page. None: the layout names an inline icon, so Chromium
/// does not ask for `/favicon.ico`, and anything else that fails is a page's fault.
const IGNORED_FAILURES: &[&str] = &[];

/// Set in CI, where a missing browser fails the test instead of skipping it.
pub const REQUIRED_VARIABLE: &str = "PERKSU_BROWSER_REQUIRED";
/// Names the browser to run instead of the first Chromium on `PATH`.
pub const BROWSER_VARIABLE: &str = "PERKSU_BROWSER";

/// The Chromium to run: `$PERKSU_BROWSER`, or the first Chromium or Chrome on `PATH`.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(BROWSER_VARIABLE).filter(|path| !path.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ]
        .iter()
        .map(|name| dir.join(name))
        .find(|candidate| candidate.is_file())
    })
}

/// Whether a missing browser must fail the test (CI) rather than skip it.
pub fn required() -> bool {
    std::env::var(REQUIRED_VARIABLE).is_ok_and(|value| !value.is_empty() && value != "0")
}

/// The `screenshots` folder in the build's target directory (beside `debug/`).
pub fn screenshot_dir() -> PathBuf {
    let executable = std::env::current_exe().expect("test executable path");
    // target/debug/deps/browser-<hash>
    let target = executable
        .ancestors()
        .nth(3)
        .expect("test executable inside a target directory");
    target.join("screenshots")
}

pub struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    page: Page,
    base_url: String,
    screenshots: PathBuf,
    console: EventStream<EventConsoleApiCalled>,
    exceptions: EventStream<EventExceptionThrown>,
    log: EventStream<EventEntryAdded>,
    /// Pages whose error status is what the step is about: their failed load is no problem.
    expected_failures: Vec<String>,
    problems: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts `executable` headless with a fresh profile, on a blank page of `base_url`'s site.
    pub async fn launch(executable: &Path, base_url: &str) -> Chromium {
        let profile = tempfile::tempdir().expect("browser profile dir");
        let config = BrowserConfig::builder()
            .chrome_executable(executable)
            .new_headless_mode()
            .no_sandbox()
            .arg("disable-gpu")
            .arg("disable-dev-shm-usage")
            .window_size(DESKTOP.0, DESKTOP.1)
            .viewport(Viewport {
                width: DESKTOP.0,
                height: DESKTOP.1,
                device_scale_factor: Some(1.0),
                ..Viewport::default()
            })
            .user_data_dir(profile.path())
            .build()
            .expect("browser configuration");
        let (browser, mut events) = Browser::launch(config)
            .await
            .unwrap_or_else(|error| panic!("{} did not start: {error}", executable.display()));
        let handler = tokio::spawn(async move {
            while let Some(event) = events.next().await {
                if let Err(error) = event {
                    eprintln!("browser connection: {error}");
                }
            }
        });
        let page = browser.new_page("about:blank").await.expect("new page");
        let console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .expect("console listener");
        let exceptions = page
            .event_listener::<EventExceptionThrown>()
            .await
            .expect("exception listener");
        let log = page
            .event_listener::<EventEntryAdded>()
            .await
            .expect("log listener");
        let screenshots = screenshot_dir();
        std::fs::create_dir_all(&screenshots).expect("screenshot dir");
        let expected_failures = IGNORED_FAILURES
            .iter()
            .map(|path| format!("{}{path}", base_url.trim_end_matches('/')))
            .collect();
        Chromium {
            browser,
            handler,
            page,
            base_url: base_url.trim_end_matches('/').to_owned(),
            screenshots,
            console,
            exceptions,
            log,
            expected_failures,
            problems: Vec::new(),
            _profile: profile,
        }
    }

    /// Closes the browser and waits for it to exit.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }

    // ---- reading the page ----

    /// Evaluates `script` in the page; `None` while no page can answer (one is loading).
    async fn evaluate(&self, script: &str) -> Option<Value> {
        let result = tokio::time::timeout(EVALUATION, self.page.evaluate(script))
            .await
            .ok()?
            .ok()?;
        Some(result.value().cloned().unwrap_or(Value::Null))
    }

    /// Evaluates `script`, which must answer.
    pub async fn eval(&self, script: &str) -> Value {
        self.evaluate(script)
            .await
            .unwrap_or_else(|| panic!("the page did not evaluate {script}"))
    }

    /// Waits until `condition` (a script) is true, or fails with `what` and the page's text.
    pub async fn wait_until(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.evaluate(condition).await == Some(Value::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what} on {}:\n{}",
                    self.path().await,
                    self.text("body").await.unwrap_or_default()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        match self.evaluate("location.pathname + location.search").await {
            Some(Value::String(path)) => path,
            _ => "(no page)".to_owned(),
        }
    }

    /// The visible text of the first element matching `selector`, if there is one.
    pub async fn text(&self, selector: &str) -> Option<String> {
        let script = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.innerText : null; }})()",
            js(selector)
        );
        match self.evaluate(&script).await {
            Some(Value::String(text)) => Some(text),
            _ => None,
        }
    }

    /// Waits until the first element matching `selector` shows `needle`; returns its text.
    pub async fn expect_text(&self, selector: &str, needle: &str) -> String {
        let script = format!(
            "(() => {{ const e = document.querySelector({}); \
             return !!e && e.innerText.includes({}) && e.getClientRects().length > 0; }})()",
            js(selector),
            js(needle)
        );
        self.wait_until(&script, &format!("{needle:?} in {selector}"))
            .await;
        self.text(selector).await.unwrap_or_default()
    }

    /// Fails unless the page shown is `path`.
    pub async fn expect_path(&self, path: &str) {
        let shown = self.path().await;
        assert_eq!(
            shown,
            path,
            "expected page {path}, got {shown}:\n{}",
            self.text("body").await.unwrap_or_default()
        );
    }

    // ---- acting on the page ----

    /// Opens `path` on the site and waits for it to load.
    pub async fn open(&mut self, path: &str) {
        let url = format!("{}{path}", self.base_url);
        self.page
            .goto(url.as_str())
            .await
            .unwrap_or_else(|error| panic!("could not open {url}: {error}"));
        self.wait_until(
            "document.readyState === 'complete'",
            &format!("{path} to load"),
        )
        .await;
        self.check(&format!("opening {path}")).await;
    }

    /// Clears the input matching `selector` and types `text` into it.
    pub async fn fill(&self, selector: &str, text: &str) {
        let Ok(input) = self.page.find_element(selector).await else {
            panic!("no input {selector} on {}", self.path().await);
        };
        input
            .call_js_fn("function() { this.value = ''; }", false)
            .await
            .expect("clear the input");
        input.click().await.expect("focus the input");
        input.type_str(text).await.expect("type into the input");
    }

    /// Picks the option whose visible text contains `label` in the select matching `selector`.
    pub async fn choose(&self, selector: &str, label: &str) {
        let script = format!(
            "(() => {{ const s = document.querySelector({}); if (!s) return false; \
             const o = [...s.options].find(o => o.text.includes({})); if (!o) return false; \
             s.value = o.value; s.dispatchEvent(new Event('change', {{ bubbles: true }})); \
             return true; }})()",
            js(selector),
            js(label)
        );
        assert_eq!(
            self.eval(&script).await,
            Value::Bool(true),
            "no option {label:?} in {selector} on {}",
            self.path().await
        );
    }

    /// Clicks the button (or link) matching `selector` and waits for the next page to load.
    pub async fn click_through(&mut self, selector: &str) {
        let from = self.path().await;
        // The mark lives in this page's window only; its absence means a new page is shown.
        self.eval("window.__perksuLeaving = true").await;
        self.page
            .find_element(selector)
            .await
            .unwrap_or_else(|error| panic!("nothing matches {selector} on {from}: {error}"))
            .click()
            .await
            .unwrap_or_else(|error| panic!("could not click {selector} on {from}: {error}"));
        self.wait_until(
            "window.__perksuLeaving === undefined && document.readyState === 'complete'",
            &format!("the page after clicking {selector} on {from}"),
        )
        .await;
        self.check(&format!("clicking {selector} on {from}")).await;
    }

    /// Records that `path` answers with an error status on purpose (a refused form), so the
    /// browser's "failed to load" line for it is not counted as a problem.
    pub fn expect_error_status(&mut self, path: &str) {
        self.expected_failures
            .push(format!("{}{path}", self.base_url));
    }

    // ---- screenshots ----

    /// Saves the whole page as `<name>.png` at desktop width, after an accessibility audit
    /// that fails the test on any serious or critical violation; returns the file.
    pub async fn screenshot(&mut self, name: &str) -> PathBuf {
        self.audit_accessibility(name).await;
        self.screenshot_at(name, DESKTOP, false).await
    }

    /// Saves the whole page as `<name>.png` at desktop width with no audit: for a page that is
    /// not ours to fix.
    pub async fn screenshot_unaudited(&mut self, name: &str) -> PathBuf {
        self.screenshot_at(name, DESKTOP, false).await
    }

    /// Runs axe-core on the page shown (see `axe.rs`): no serious or critical violation.
    pub async fn audit_accessibility(&mut self, name: &str) {
        let Some(source) = crate::axe::source() else {
            return;
        };
        if self.evaluate("typeof axe === 'object'").await != Some(Value::Bool(true)) {
            self.evaluate(&format!("{source}\n;true"))
                .await
                .unwrap_or_else(|| panic!("{name}: axe-core did not load"));
        }
        let answer = tokio::time::timeout(AUDIT, self.page.evaluate(crate::axe::audit_script()))
            .await
            .unwrap_or_else(|_| panic!("{name}: the accessibility audit took too long"))
            .unwrap_or_else(|error| panic!("{name}: the accessibility audit failed: {error}"));
        let found = crate::axe::violations(answer.value().unwrap_or(&Value::Null));
        assert!(
            found.is_empty(),
            "{name}: {} serious or critical accessibility violation(s):\n{}",
            found.len(),
            found.join("\n")
        );
    }

    /// Saves the whole page as `<name>.png` at phone width, then goes back to the desktop.
    pub async fn phone_screenshot(&mut self, name: &str) -> PathBuf {
        let file = self.screenshot_at(name, PHONE, true).await;
        let overflow = self
            .eval("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        self.set_viewport(DESKTOP.0, DESKTOP.1, false).await;
        assert!(
            overflow.as_f64().unwrap_or(0.0) <= 0.0,
            "{name}: the page is {overflow} px wider than a phone's screen"
        );
        file
    }

    async fn set_viewport(&self, width: u32, height: u32, mobile: bool) {
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                i64::from(width),
                i64::from(height),
                1.0,
                mobile,
            ))
            .await
            .expect("set the viewport");
    }

    async fn screenshot_at(&mut self, name: &str, size: (u32, u32), mobile: bool) -> PathBuf {
        self.set_viewport(size.0, size.1, mobile).await;
        let content = self
            .eval("Math.ceil(document.documentElement.scrollHeight)")
            .await
            .as_u64()
            .unwrap_or(u64::from(size.1));
        let height = u32::try_from(content).unwrap_or(size.1).max(size.1);
        self.set_viewport(size.0, height, mobile).await;
        let png = self
            .page
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .unwrap_or_else(|error| panic!("screenshot {name}: {error}"));
        self.set_viewport(size.0, size.1, mobile).await;
        let file = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&file, png).unwrap_or_else(|error| panic!("write {file:?}: {error}"));
        self.check(&format!("the screenshot {name}")).await;
        file
    }

    // ---- console errors and uncaught exceptions ----

    /// Fails with every console error, failed load and uncaught exception seen so far.
    pub async fn check(&mut self, step: &str) {
        // Events come before the answer to a later command, so after this round trip every
        // event the page raised so far is in the listeners' queues.
        let _ = self.evaluate("0").await;
        self.collect();
        if !self.problems.is_empty() {
            panic!(
                "the browser reported {} problem(s) by {step}:\n{}",
                self.problems.len(),
                self.problems.join("\n")
            );
        }
    }

    fn collect(&mut self) {
        while let Some(Some(event)) = self.console.next().now_or_never() {
            if matches!(
                event.r#type,
                ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
            ) {
                let words: Vec<String> = event.args.iter().map(describe).collect();
                self.problems
                    .push(format!("console.{:?}: {}", event.r#type, words.join(" ")));
            }
        }
        while let Some(Some(event)) = self.exceptions.next().now_or_never() {
            let details = &event.exception_details;
            let thrown = details.exception.as_ref().map(describe).unwrap_or_default();
            self.problems.push(format!(
                "uncaught exception: {} {thrown} at {}:{}",
                details.text,
                details.url.as_deref().unwrap_or("?"),
                details.line_number + 1
            ));
        }
        while let Some(Some(event)) = self.log.next().now_or_never() {
            let entry = &event.entry;
            if entry.level != LogEntryLevel::Error {
                continue;
            }
            let url = entry.url.as_deref().unwrap_or_default();
            let expected = entry.source == LogEntrySource::Network
                && self.expected_failures.iter().any(|page| page == url);
            if !expected {
                self.problems.push(format!(
                    "browser log ({:?}): {} at {url}",
                    entry.source, entry.text
                ));
            }
        }
    }
}

/// A JavaScript string literal for `text`.
fn js(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// A console argument or thrown value as text.
fn describe(object: &RemoteObject) -> String {
    match (&object.value, &object.description) {
        (Some(Value::String(text)), _) => text.clone(),
        (Some(value), _) => value.to_string(),
        (None, Some(description)) => description.clone(),
        (None, None) => format!("{:?}", object.r#type),
    }
}
