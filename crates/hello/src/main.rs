//! The yardstick of `bench/load.sh`: an axum hello-world built like `lots` (mimalloc, tokio's
//! multi-threaded runtime with its defaults, release profile), so that the load benchmark can
//! say what share of the machine's HTTP capacity a Lots request reaches in the same run.
//!
//! Usage: `lots-hello [ADDR]` (default 127.0.0.1:18300). `GET /healthz` answers `{"status":"ok"}`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18300".to_string());
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"{"status":"ok"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("hello-world listening on http://{addr}");
    axum::serve(listener, app).await
}
