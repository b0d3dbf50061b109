//! The server of the end-to-end load bench (`scripts/bench`): the crate's HTTPS server on a
//! self-signed certificate, either with `PrivatePlayLayer` and a check-in handler that reads
//! the typed enrolled user, or the same server without the layer answering a fixed JSON body.
//!
//! ```sh
//! cargo run --release --example bench_server -- layer 127.0.0.1:9443
//! cargo run --release --example bench_server -- plain 127.0.0.1:9444
//! ```
//!
//! It prints `ready <pid>` once listening and serves until SIGTERM. `NUGU_BENCH_MAX_CONNECTIONS`
//! sets the server's connection limit (default 1024), for `scripts/soak`'s overload phase.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{Server, TlsConfig};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlayLayer};
use tower::ServiceBuilder;

/// The API key the wrk script sends.
const API_KEY: &str = "bench-api-key";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "layer".into());
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:9443".into())
        .parse()?;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let tls = TlsConfig::from_pem(
        cert.cert.pem().as_bytes(),
        cert.signing_key.serialize_pem().as_bytes(),
    )?;
    let mut builder = Server::builder().tls(tls);
    if let Ok(max) = std::env::var("NUGU_BENCH_MAX_CONNECTIONS") {
        builder = builder.max_connections(max.parse()?);
    }
    let server = builder.bind(addr).await?;
    println!("ready {}", std::process::id());
    match mode.as_str() {
        "layer" => {
            let service = ServiceBuilder::new()
                .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY)?))
                .service_fn(check_in);
            server.serve(service).await;
        }
        "plain" => server.serve(tower::service_fn(fixed)).await,
        other => return Err(format!("unknown mode {other:?}: layer or plain").into()),
    }
    Ok(())
}

/// What a play's handler does with the layer: read the typed user, answer with the echo.
async fn check_in(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (
        req.extensions().get::<ActionRequest>(),
        req.extensions().get::<EnrolledUser>(),
    ) {
        (Some(action), Some(user)) => ActionResponse::from_request(action)
            .output("userName", user.name().unwrap_or_default())
            .output("checkInTime", "09:00"),
        (Some(action), None) => ActionResponse::from_request(action).exception("NOT_ENROLLED"),
        (None, _) => return Ok(Response::new(Full::new(Bytes::new()))),
    };
    Ok(response.into_http())
}

/// The same server without the layer: read the body, answer a fixed JSON body.
async fn fixed(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    req.into_body().collect().await?;
    let mut response = Response::new(Full::new(Bytes::from_static(
        br#"{"version":"2.0","resultCode":"OK","output":{"userName":"x","checkInTime":"09:00"}}"#,
    )));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
