/// One request as the server received it, recorded before any reply is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query exactly as sent in the request line.
    pub target: String,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body framed by `Content-Length`; empty when there was none. Chunked request bodies
    /// are not read (the connection closes instead), so they are recorded as empty too.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first header called `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target without its query string.
    pub fn path(&self) -> &str {
        path_of(&self.target)
    }

    /// The body as text, with invalid UTF-8 replaced: for assertions and failure messages.
    pub fn body_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

pub(crate) fn path_of(target: &str) -> &str {
    target.split_once('?').map_or(target, |(path, _)| path)
}
