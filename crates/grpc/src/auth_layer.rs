//! The authentication layer: an async tower middleware in front of every
//! service. It assigns the request id, applies the policy table, resolves the
//! bearer token to a principal through the domain, refuses a
//! temporary-password session everywhere but ChangePassword and Logout, and
//! leaves a [`Ctx`] in the request extensions for the handlers. After a call
//! that may have changed state it empties the principal cache.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response};
use steward_domain::auth::{AuthService, Ctx};
use tonic::Code;
use tower::{Layer, Service};

use crate::error::{to_status, transport_status};
use crate::policy::{Access, Decision, decide, may_change_state};
use crate::request_id::{self, RequestId};

#[derive(Clone)]
pub struct AuthLayer {
    auth: Arc<AuthService>,
}

impl AuthLayer {
    pub fn new(auth: Arc<AuthService>) -> Self {
        Self { auth }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthMiddleware<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthMiddleware { inner, auth: self.auth.clone() }
    }
}

#[derive(Clone)]
pub struct AuthMiddleware<S> {
    inner: S,
    auth: Arc<AuthService>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> Service<Request<B>> for AuthMiddleware<S>
where
    S: Service<Request<B>, Response = Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one we call (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            let rid = request_id::from_header(req.headers().get(request_id::HEADER).and_then(|v| v.to_str().ok()));
            let path = req.uri().path().to_string();
            let bearer =
                req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
            let outcome = admit(&auth, &path, bearer.as_deref(), &rid).await;
            let mut response = match outcome {
                Ok(ctx) => {
                    if let Some(ctx) = ctx {
                        req.extensions_mut().insert(ctx);
                    }
                    req.extensions_mut().insert(rid.clone());
                    let response = inner.call(req).await?;
                    // Before the caller sees the answer: whatever it changed
                    // (a revoked key, a removed role) holds for the next call.
                    if may_change_state(&path) {
                        auth.forget_cached_principals();
                    }
                    response
                }
                Err(status) => status.into_http(),
            };
            if let Ok(v) = HeaderValue::from_str(&rid.0) {
                response.headers_mut().insert(request_id::HEADER, v);
            }
            Ok(response)
        })
    }
}

/// `Ok(None)`: open RPC; `Ok(Some(ctx))`: authenticated caller; `Err`: refused.
async fn admit(
    auth: &AuthService,
    path: &str,
    authorization: Option<&str>,
    rid: &RequestId,
) -> Result<Option<Ctx>, tonic::Status> {
    let access = match decide(path) {
        Decision::Open => return Ok(None),
        Decision::Deny => {
            return Err(transport_status(
                Code::PermissionDenied,
                "POLICY_MISSING",
                "this method is not open to anyone",
                &rid.0,
            ));
        }
        Decision::Require(access) => access,
    };
    let token = authorization
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| {
            transport_status(Code::Unauthenticated, "UNAUTHENTICATED", "send authorization: Bearer <token>", &rid.0)
        })?;
    let principal = auth.authenticate(token).await.map_err(|e| to_status(e, &rid.0))?;
    if principal.password_change_required && access != Access::EvenBeforePasswordChange {
        let e = steward_domain::DomainError::precondition(
            "PASSWORD_CHANGE_REQUIRED",
            "session",
            "change the temporary password first (AuthService.ChangePassword)",
        );
        return Err(to_status(e, &rid.0));
    }
    Ok(Some(Ctx { principal, request_id: rid.0.clone() }))
}
