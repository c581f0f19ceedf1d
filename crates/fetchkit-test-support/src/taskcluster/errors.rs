//! Error replies shaped like `taskcluster-lib-api`'s `res.reportError`, and the services' time
//! format.

use std::time::SystemTime;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::handler::HandlerReply;

/// What `requestInfo` reports about the call being answered.
#[derive(Debug)]
pub(super) struct Context {
    /// The API method name.
    pub(super) method: &'static str,
    pub(super) params: Map<String, Value>,
    pub(super) payload: Value,
}

/// An error the fake answers with: a `taskcluster-lib-api` error code and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ApiError {
    code: String,
    status: u16,
    message: String,
}

impl ApiError {
    /// An error whose status follows from its code, as in the services' `errorCodes`.
    pub(super) fn new(code: &str, message: String) -> ApiError {
        ApiError {
            code: code.to_owned(),
            status: status_of(code),
            message,
        }
    }

    pub(super) fn authentication(message: String) -> ApiError {
        ApiError::new("AuthenticationFailed", message)
    }

    /// The error a scripted status stands for: the code the services use for it, or
    /// `InternalServerError` with an incident id for server errors.
    pub(super) fn scripted(status: u16) -> ApiError {
        let (code, message) = match status {
            400 => ("InputError", "scripted 400".to_owned()),
            401 => ("AuthenticationFailed", "scripted 401".to_owned()),
            403 => ("InsufficientScopes", "scripted 403".to_owned()),
            404 => ("ResourceNotFound", "scripted 404".to_owned()),
            406 => ("NoMatchingMethod", "scripted 406".to_owned()),
            409 => ("RequestConflict", "scripted 409".to_owned()),
            410 => ("ResourceExpired", "scripted 410".to_owned()),
            413 => ("InputTooLarge", "scripted 413".to_owned()),
            500.. => (
                "InternalServerError",
                format!(
                    "Internal Server Error, incidentId: {}",
                    super::auth::random_token(16)
                ),
            ),
            _ => ("ScriptedError", format!("scripted {status}")),
        };
        ApiError {
            code: code.to_owned(),
            status,
            message,
        }
    }

    /// The JSON reply: `{code, message, requestInfo}`, the message ending in the same trailer
    /// the services append.
    pub(super) fn reply(&self, context: &Context) -> HandlerReply {
        let time = js_date(OffsetDateTime::from(SystemTime::now()));
        let message = format!(
            "{}\n\n---\n\n* method:     {}\n* errorCode:  {}\n* statusCode: {}\n\
             * time:       {time}",
            self.message, context.method, self.code, self.status
        );
        let body = json!({
            "code": self.code,
            "message": message,
            "requestInfo": {
                "method": context.method,
                "params": context.params,
                "payload": context.payload,
                "time": time,
            },
        });
        let reply = HandlerReply::json(self.status, &body);
        if self.status == 401 {
            reply.header("WWW-Authenticate", "hawk")
        } else {
            reply
        }
    }
}

/// `taskcluster-lib-api`'s error codes, with the object service's own.
fn status_of(code: &str) -> u16 {
    match code {
        "MalformedPayload"
        | "InvalidRequestArguments"
        | "InputValidationError"
        | "InputError"
        | "NoMatchingBackend" => 400,
        "AuthenticationFailed" => 401,
        "InsufficientScopes" => 403,
        "ResourceNotFound" => 404,
        "NoMatchingMethod" => 406,
        "RequestConflict" => 409,
        "ResourceExpired" => 410,
        "InputTooLarge" => 413,
        _ => 500,
    }
}

/// A time as JavaScript's `Date.prototype.toJSON` writes it, which is what the services send:
/// `2024-01-31T12:00:00.000Z`.
pub(super) fn js_date(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::js_date;

    #[test]
    fn js_date_matches_to_json() {
        let time = time::OffsetDateTime::from_unix_timestamp_nanos(1_706_702_400_123_456_789)
            .expect("in range");
        assert_eq!(js_date(time), "2024-01-31T12:00:00.123Z");
    }
}
