//! The HTTP client: one connection pool, timeouts that catch stalls without capping big files.

use std::time::Duration;

use crate::{Error, ErrorKind};

/// The default `User-Agent`: fetchkit and its version, so server operators can tell who calls.
pub const USER_AGENT: &str = concat!("fetchkit/", env!("CARGO_PKG_VERSION"));

/// An HTTP client for downloads. Cheap to clone; clones share the connection pool, so one
/// client should serve a whole program.
///
/// There is deliberately no total timeout: a 10 GB file on a slow link is legitimate. Instead,
/// [`ClientBuilder::read_timeout`] bounds how long any single wait for the server may last.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) read_timeout: Duration,
}

/// Settings for a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    connect_timeout: Duration,
    read_timeout: Duration,
    max_redirects: usize,
    user_agent: String,
    proxy_from_environment: bool,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_redirects: 10,
            user_agent: USER_AGENT.to_owned(),
            proxy_from_environment: false,
        }
    }
}

impl ClientBuilder {
    /// How long a TCP (and TLS) connection may take to establish. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for response headers, and for each piece of the body, before the
    /// attempt counts as stalled. Default 30 s.
    pub fn read_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.read_timeout = timeout;
        self
    }

    /// How many redirects to follow before failing. Default 10; 0 follows none.
    pub fn max_redirects(mut self, redirects: usize) -> ClientBuilder {
        self.max_redirects = redirects;
        self
    }

    /// Replaces the `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> ClientBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// Whether to honour the `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` environment variables.
    /// Off by default: a library does not read the environment behind its caller's back; the
    /// CLI turns it on.
    pub fn proxy_from_environment(mut self, yes: bool) -> ClientBuilder {
        self.proxy_from_environment = yes;
        self
    }

    pub(crate) fn read_timeout_setting(&self) -> Duration {
        self.read_timeout
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let redirect = if self.max_redirects == 0 {
            reqwest::redirect::Policy::none()
        } else {
            reqwest::redirect::Policy::limited(self.max_redirects)
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .redirect(redirect)
            // A Referer would carry a signed URL's query to wherever a redirect points.
            .referer(false)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90));
        if !self.proxy_from_environment {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|error| {
            Error::new(
                ErrorKind::Client {
                    message: error.to_string(),
                },
                None,
            )
        })?;
        Ok(Client {
            http,
            read_timeout: self.read_timeout,
        })
    }
}

impl Client {
    /// A client with the default settings.
    pub fn new() -> Result<Client, Error> {
        ClientBuilder::default().build()
    }

    /// Settings for a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The per-wait timeout this client was built with.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }
}
