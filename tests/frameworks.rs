//! The layer under real servers on 127.0.0.1: axum's `Router::layer`, and hyper directly.
//! These servers speak plain HTTP, so they show both the fail-closed default and the explicit
//! opt-out; the HTTPS server has its own tests.

mod common;

use std::net::SocketAddr;

use axum::routing::post;
use axum::{Extension, Json, Router};
use common::{fixture, API_KEY};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use nugu_proxy::layer::{ApiKey, Authentication};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlayLayer};
use serde_json::Value;
use tokio::net::TcpListener;

fn layer() -> PrivatePlayLayer {
    PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap())
}

async fn check_in(
    request: ActionRequest,
    auth: Authentication,
    user: Option<EnrolledUser>,
    Extension(same): Extension<ActionRequest>, // what the extractors read, as axum's Extension
    Json(raw): Json<Value>,                    // the handler can still read the body itself
) -> ActionResponse {
    assert_eq!(auth, Authentication::ApiKey);
    assert_eq!(raw["action"]["actionName"], request.action_name());
    assert_eq!(same.action_name(), request.action_name());
    match user {
        Some(user) => ActionResponse::from_request(&request)
            .output("userName", user.name().unwrap_or_default()),
        None => ActionResponse::from_request(&request).exception("NOT_ENROLLED"),
    }
}

async fn serve_axum(layer: PrivatePlayLayer) -> SocketAddr {
    let app = Router::new()
        .route("/nugu/check_in", post(check_in))
        .layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn post_nugu(addr: SocketAddr, path: &str, body: String) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .header("authorization", format!("token {API_KEY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn axum_router_layer() {
    let addr = serve_axum(layer().dangerous_allow_insecure_transport()).await;
    let (status, json) = post_nugu(addr, "/nugu/check_in", fixture("private_play_full")).await;
    assert_eq!(status, 200);
    assert_eq!(json["resultCode"], "OK");
    assert_eq!(json["output"]["userName"], "홍길동");
    assert_eq!(json["output"]["date"], "오늘");

    let (status, json) = post_nugu(addr, "/nugu/check_in", fixture("biz_device")).await;
    assert_eq!(
        (status, &json["resultCode"]),
        (200, &Value::from("NOT_ENROLLED"))
    );

    let (status, json) = post_nugu(addr, "/nugu/check_in", "{\"version\":".into()).await;
    assert_eq!(
        (status, &json["error"]),
        (400, &Value::from("malformed_request"))
    );
}

#[tokio::test]
async fn axum_over_plain_http_fails_closed_by_default() {
    let addr = serve_axum(layer()).await;
    let (status, json) = post_nugu(addr, "/nugu/check_in", fixture("private_play_full")).await;
    assert_eq!(
        (status, &json["error"]),
        (403, &Value::from("insecure_transport"))
    );
}

#[tokio::test]
async fn hyper_directly() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = tower::ServiceBuilder::new()
        .layer(layer().dangerous_allow_insecure_transport())
        .service_fn(
            |req: http::Request<http_body_util::Full<bytes::Bytes>>| async move {
                let request = req.extensions().get::<ActionRequest>().unwrap();
                let name = req
                    .extensions()
                    .get::<EnrolledUser>()
                    .and_then(|u| u.name().map(str::to_owned));
                let response = ActionResponse::from_request(request)
                    .output("userName", name.unwrap_or_default());
                Ok::<_, std::convert::Infallible>(response.into_http())
            },
        );
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                    .ok();
            });
        }
    });
    let (status, json) = post_nugu(addr, "/check_in", fixture("private_play_basic")).await;
    assert_eq!(status, 200);
    assert_eq!(json["output"]["userName"], "홍길동");
    assert_eq!(json["output"]["place"], "HQ");
}
