//! The README's direct-TLS deployment as a whole program, errors returned from `main` with `?`.
//!
//! ```sh
//! NUGU_API_KEY=... cargo run --example direct_tls -- fullchain.pem privkey.pem 0.0.0.0:8443
//! ```
//!
//! A startup error ends it with `Error: ` and the error's message and causes, e.g.
//! `Error: cannot read the TLS certificate file fullchain.pem; ...` then `Caused by:` and
//! `No such file or directory (os error 2)`. `kill -HUP <pid>` reloads the two files.

use std::convert::Infallible;
use std::error::Error;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use nugu_proxy::server::{Server, TlsConfig};
use nugu_proxy::{ActionRequest, ActionResponse, ApiKey, PrivatePlayLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let cert = args.next().unwrap_or_else(|| "fullchain.pem".to_owned());
    let key = args.next().unwrap_or_else(|| "privkey.pem".to_owned());
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8443".to_owned());

    let tls = TlsConfig::from_pem_files(cert, key)?;
    let layer = PrivatePlayLayer::new(ApiKey::new(
        std::env::var("NUGU_API_KEY").unwrap_or_default(),
    )?);
    let server = Server::builder().tls(tls).bind(listen.parse()?).await?;
    println!("listening on {}", server.local_addr());
    let play = tower::ServiceBuilder::new().layer(layer).service_fn(answer);
    server.serve(play).await; // until SIGTERM or Ctrl-C
    Ok(())
}

/// Answers every action `OK`, echoing its parameters.
async fn answer(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match req.extensions().get::<ActionRequest>() {
        Some(action) => ActionResponse::from_request(action).into_http(),
        None => Response::builder()
            .status(http::StatusCode::NOT_FOUND)
            .body(Full::default())
            .unwrap_or_default(),
    })
}
