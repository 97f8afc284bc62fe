//! A minimal browser for the web pages: it keeps cookies, does not follow redirects, and reads
//! the hidden form tokens out of the HTML it gets.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::common::{TestApp, PASSWORD};

/// One page as the browser got it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn assert_status(&self, status: u16) -> &Page {
        assert_eq!(self.status.as_u16(), status, "unexpected page: {self:#?}");
        self
    }

    /// Where a redirect points.
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn assert_redirect(&self, to: &str) -> &Page {
        assert_eq!(self.status.as_u16(), 303, "not a redirect: {self:#?}");
        assert_eq!(self.location(), to, "redirected elsewhere: {self:#?}");
        self
    }

    pub fn assert_contains(&self, text: &str) -> &Page {
        assert!(
            self.body.contains(text),
            "{text:?} not on the page: {}",
            self.body
        );
        self
    }

    /// The `Set-Cookie` line for `name`, if the page set one.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the first hidden field `name` on the page.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} on the page: {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("field value ends") + start;
        self.body[start..end].to_owned()
    }

    /// The form token every form on the page carries.
    pub fn csrf_token(&self) -> String {
        self.field("csrf_token")
    }
}

pub struct Browser {
    base_url: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            base_url: app.base_url.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    /// A browser signed in as `email` (whose password is the harness's).
    pub async fn signed_in(app: &TestApp, email: &str) -> Browser {
        let mut browser = Browser::new(app);
        let reply = browser.log_in(email, PASSWORD).await;
        assert_eq!(reply.status.as_u16(), 303, "login failed: {reply:#?}");
        browser
    }

    /// Opens the login page and sends its form.
    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let token = form.field("login_token");
        self.post(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("login_token", &token),
            ],
        )
        .await
    }

    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.cookies.get(name)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, self.cookie_header())
        };
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        for line in headers.get_all(SET_COOKIE).iter() {
            let line = line.to_str().expect("cookie is text");
            let pair = line.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("cookie has a value");
            if value.is_empty() || line.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base_url));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .form(fields);
        self.send(request).await
    }

    /// Posts a `multipart/form-data` form (text fields and one file), as a form with a file
    /// input is sent.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        let boundary = "----perksu-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n\
                     {value}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, filename, content) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(request).await
    }

    /// Opens `page`, then sends `fields` with its form token to `action`.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(page).await.assert_status(200).csrf_token();
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        self.post(action, &fields).await
    }
}
