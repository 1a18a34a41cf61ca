//! Limits no client gets past, before any credential is checked: a request body must
//! arrive within `server.body_timeout_secs` of the request's start (a body trickled one
//! byte at a time no longer holds a connection for minutes), and one address has at most
//! `server.max_requests_per_address` requests in flight (answered 429 beyond). The time
//! to send the request head is actix's `client_request_timeout`
//! (`server.header_timeout_secs`). Failed authentications have budgets of their own
//! (`server.auth_failures_*`, [`web_common::failures`]), spent by the routes that check
//! credentials.

use std::collections::HashMap;
use std::future::Future as _;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use futures_core::Stream;

/// The limits, shared by every worker.
#[derive(Debug)]
pub struct Limits {
    /// Longest time from the request's start to the end of its body.
    pub body_timeout: Duration,
    /// Most requests in flight from one address (0: no limit).
    pub per_address: usize,
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

impl Limits {
    /// Limits with these settings.
    pub fn new(body_timeout: Duration, per_address: usize) -> Limits {
        Limits {
            body_timeout,
            per_address,
            in_flight: Mutex::default(),
        }
    }

    /// Counts a request of `ip` in, unless the address is at its limit.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if self.per_address > 0 && *n >= self.per_address {
            return None;
        }
        *n += 1;
        Some(Slot {
            limits: self.clone(),
            ip,
        })
    }
}

/// A request counted in; counted out when dropped (also when the client goes away).
struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self
            .limits
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// The middleware: `App::new().wrap(from_fn(limits::enforce))` with the [`Limits`] in the
/// app data.
pub async fn enforce(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(limits) = req
        .app_data::<web::Data<Arc<Limits>>>()
        .map(|d| d.get_ref().clone())
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let slot = match req.peer_addr() {
        Some(peer) => match limits.admit(peer.ip()) {
            Some(slot) => Some(slot),
            None => {
                let body = proto::ErrorBody::new(
                    proto::ErrorCode::TooManyRequests,
                    format!(
                        "too many requests in flight from your address (at most {}); retry later",
                        limits.per_address
                    ),
                );
                let mut response = web_common::error_response(StatusCode::TOO_MANY_REQUESTS, &body);
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from_static("1"),
                );
                return Ok(req.into_response(response).map_into_right_body());
            }
        },
        None => None,
    };
    let payload = req.take_payload();
    let deadline = actix_web::rt::time::sleep(limits.body_timeout);
    req.set_payload(Payload::from(Box::pin(TimedPayload {
        inner: payload,
        deadline: Box::pin(deadline),
        timeout: limits.body_timeout,
        done: false,
    })
        as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>));
    let response = next.call(req).await;
    drop(slot);
    response.map(ServiceResponse::map_into_left_body)
}

/// A request body that fails once its deadline passes.
struct TimedPayload {
    inner: Payload,
    deadline: Pin<Box<actix_web::rt::time::Sleep>>,
    timeout: Duration,
    done: bool,
}

impl Stream for TimedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.done = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "the body did not arrive within {} s (server.body_timeout_secs)",
                            this.timeout.as_secs()
                        ),
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
