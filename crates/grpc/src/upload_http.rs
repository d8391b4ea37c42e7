//! The presigned upload URL, served as plain HTTP on the gRPC port:
//! `PUT /uploads/imports/{job}?max_bytes=…&expires=…&nonce=…&signature=…`
//! with the CSV as the body. The URL is its own credential (no bearer token);
//! the size cap is enforced as the body streams in, before anything is kept.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use http::{Method, Request, Response, StatusCode, header};
use steward_domain::DomainError;
use steward_domain::import::{ImportService, UPLOAD_PATH_PREFIX};
use tokio_stream::StreamExt;

/// The route, for the router.
pub fn routes(imports: Arc<ImportService>) -> axum::Router {
    let service = tower::service_fn(move |req: Request<Body>| {
        let imports = imports.clone();
        async move { Ok::<_, Infallible>(put_upload(&imports, req).await) }
    });
    axum::Router::new().route_service(&format!("{UPLOAD_PATH_PREFIX}{{job}}"), service)
}

async fn put_upload(imports: &ImportService, req: Request<Body>) -> Response<Body> {
    if req.method() != Method::PUT {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "upload the file with PUT");
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut upload = match imports.open_url_upload(&path, &query).await {
        Ok(u) => u,
        Err(e) => return error(e),
    };
    let mut body = req.into_body().into_data_stream();
    // A declared length over the cap is refused before a byte is read.
    if let Some(n) = declared
        && let Err(e) = upload.expect_at_most(n).await
    {
        return error(e);
    }
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => {
                if let Err(e) = upload.write(&bytes).await {
                    return error(e);
                }
            }
            Err(e) => {
                upload.abort().await;
                tracing::info!(error = %e, job = %upload.job(), "upload body broke off");
                return reply(StatusCode::BAD_REQUEST, "UPLOAD_INCOMPLETE", "the body ended early");
            }
        }
    }
    match upload.finish().await {
        Ok(out) => {
            let body = format!(
                "{{\"job_id\":\"{}\",\"state\":\"UPLOADED\",\"file_bytes\":{}}}\n",
                out.job.id,
                out.job.file_bytes.unwrap_or_default()
            );
            json(StatusCode::OK, body)
        }
        Err(e) => error(e),
    }
}

fn error(e: DomainError) -> Response<Body> {
    let reason = e.reason();
    let status = match &e {
        DomainError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
        DomainError::FailedPrecondition { reason: "UPLOAD_URL_MALFORMED", .. } => StatusCode::BAD_REQUEST,
        DomainError::FailedPrecondition { reason: "URL_ALREADY_USED" | "JOB_NOT_AWAITING_UPLOAD", .. } => {
            StatusCode::CONFLICT
        }
        DomainError::FailedPrecondition { .. } => StatusCode::FORBIDDEN,
        DomainError::ResourceExhausted { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match &e {
        DomainError::Internal(detail) => {
            tracing::error!(error = %detail, "upload failed");
            "internal error".to_string()
        }
        DomainError::Unavailable(detail) => {
            tracing::warn!(error = %detail, "upload: dependency unavailable");
            "the service is temporarily unavailable; retry".to_string()
        }
        other => other.to_string(),
    };
    reply(status, reason, &message)
}

fn reply(status: StatusCode, reason: &str, message: &str) -> Response<Body> {
    let escaped: String = message
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect();
    json(status, format!("{{\"reason\":\"{reason}\",\"message\":\"{escaped}\"}}\n"))
}

fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}
