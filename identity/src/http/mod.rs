//! The HTTP surface (actix-web). Handlers are thin: parse, call one domain
//! function, render. This is the only module that imports actix.

mod account;
mod authorize;
mod client_ip;
mod consent;
mod cookies;
mod discovery;
pub mod error;
mod form;
mod health;
mod login;
mod login_passkey;
mod logout;
mod middleware;
pub mod pages;
mod passkeys;
mod token;
mod userinfo;

use crate::app::StartError;
use crate::{App, Config};
use actix_web::{web, HttpResponse, HttpServer};
use std::time::Duration;

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(discovery::openid_configuration),
    )
    .route(
        "/.well-known/oauth-authorization-server",
        web::get().to(discovery::openid_configuration),
    )
    .route("/jwks", web::get().to(discovery::jwks))
    .route("/authorize", web::get().to(authorize::get))
    .route("/authorize", web::post().to(authorize::post))
    .route("/login", web::get().to(login::get))
    .route("/login", web::post().to(login::post))
    .route("/login/passkey/start", web::post().to(login_passkey::start))
    .route(
        "/login/passkey/finish",
        web::post().to(login_passkey::finish),
    )
    .route("/assets/passkeys.js", web::get().to(login_passkey::script))
    .route("/assets/account.js", web::get().to(account::script))
    .route("/account", web::get().to(account::page))
    .route("/account/reauth", web::get().to(account::reauth))
    .route("/account/passkeys/rename", web::post().to(account::rename))
    .route("/account/passkeys/remove", web::post().to(account::remove))
    .route(
        "/account/passkeys/registration/start",
        web::post().to(account::registration_start),
    )
    .route(
        "/account/passkeys/registration/finish",
        web::post().to(account::registration_finish),
    )
    .route("/consent", web::get().to(consent::get))
    .route("/consent", web::post().to(consent::post))
    .route("/token", web::post().to(token::token))
    .route("/introspect", web::post().to(token::introspect))
    .route("/revoke", web::post().to(token::revoke))
    .route("/userinfo", web::get().to(userinfo::get))
    .route("/userinfo", web::post().to(userinfo::post))
    .route("/logout", web::get().to(logout::get))
    .route("/logout", web::post().to(logout::post))
    .route(
        "/passkeys/registration/start",
        web::post().to(passkeys::registration_start),
    )
    .route(
        "/passkeys/registration/finish",
        web::post().to(passkeys::registration_finish),
    )
    .route(
        "/passkeys/authentication/start",
        web::post().to(passkeys::authentication_start),
    )
    .route(
        "/passkeys/authentication/finish",
        web::post().to(passkeys::authentication_finish),
    )
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(health::metrics))
    .default_service(web::to(not_found));
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "error": "not_found" }))
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs [`serve`] on actix's runtime until shutdown (the binary's `serve`
/// command), so nothing outside this module names actix.
pub fn run(config: Config) -> Result<(), ServeError> {
    actix_web::rt::System::new().block_on(serve(config))
}

/// Binds, starts the provider, prints the start-up line, and serves until
/// SIGINT/SIGTERM, finishing in-flight requests (up to 30 s).
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let listener =
        std::net::TcpListener::bind(&config.bind).map_err(|source| ServeError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
    let addr = listener.local_addr()?;
    let issuer = config
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_string();
    let reload_every = Duration::from_secs(config.key_reload_secs.max(1));
    let app = web::Data::new(App::start(config, issuer.clone(), crate::clock::now()).await?);

    let reloader = app.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(reload_every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = reloader.keys.reload(crate::clock::now()).await {
                tracing::warn!(error = %e, "signing key reload failed; keeping the current keys");
            }
        }
    });

    let data = app.clone();
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(middleware::observe))
            .configure(routes)
    })
    .listen(listener)?
    .shutdown_timeout(30)
    .run();

    println!("tessera: listening on http://{addr} (issuer {issuer})");
    println!(
        "tessera: durable store {}, ephemeral store {}",
        match app.db.kind() {
            crate::config::DatabaseKind::Postgres(_) => "PostgreSQL".to_string(),
            crate::config::DatabaseKind::Sqlite(p) => format!("SQLite ({})", p.display()),
        },
        app.ephemeral.backend_name()
    );
    if let crate::keys::KekSource::Created(path) = &app.kek_source {
        println!(
            "tessera: created key-encryption key {} (back it up with the database)",
            path.display()
        );
    }
    println!("tessera: next, add a user and a client in another terminal:");
    println!("  cargo run --bin tessera-admin -- user add alice --email alice@example.com --password-stdin");
    println!("  cargo run --bin tessera-admin -- client add --name \"My app\" --redirect-uri http://127.0.0.1:3000/callback");
    println!("tessera: discovery at {issuer}/.well-known/openid-configuration");
    server.await?;
    tracing::info!("shut down");
    Ok(())
}
