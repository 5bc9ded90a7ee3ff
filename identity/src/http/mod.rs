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
use actix_web::{guard, web, HttpServer};
use std::time::Duration;

/// A route for GET that answers HEAD too (RFC 9110 9.3.2: the same
/// status and headers; actix sends no body for HEAD).
fn get() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// A resource whose other methods get 405 with `Allow` (RFC 9110 15.5.6).
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(
        move || async move { error::method_not_allowed(allow) },
    ))
}

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const GET: &str = "GET, HEAD";
    const POST: &str = "POST";
    const BOTH: &str = "GET, HEAD, POST";
    cfg.service(
        resource("/.well-known/openid-configuration", GET)
            .route(get().to(discovery::openid_configuration)),
    )
    .service(
        resource("/.well-known/oauth-authorization-server", GET)
            .route(get().to(discovery::openid_configuration)),
    )
    .service(resource("/jwks", GET).route(get().to(discovery::jwks)))
    .service(
        resource("/authorize", BOTH)
            .route(get().to(authorize::get))
            .route(web::post().to(authorize::post)),
    )
    .service(
        resource("/login", BOTH)
            .route(get().to(login::get))
            .route(web::post().to(login::post)),
    )
    .service(resource("/login/passkey/start", POST).route(web::post().to(login_passkey::start)))
    .service(resource("/login/passkey/finish", POST).route(web::post().to(login_passkey::finish)))
    .service(resource("/assets/passkeys.js", GET).route(get().to(login_passkey::script)))
    .service(resource("/assets/account.js", GET).route(get().to(account::script)))
    .service(resource("/account", GET).route(get().to(account::page)))
    .service(resource("/account/reauth", GET).route(get().to(account::reauth)))
    .service(resource("/account/passkeys/rename", POST).route(web::post().to(account::rename)))
    .service(resource("/account/passkeys/remove", POST).route(web::post().to(account::remove)))
    .service(
        resource("/account/passkeys/registration/start", POST)
            .route(web::post().to(account::registration_start)),
    )
    .service(
        resource("/account/passkeys/registration/finish", POST)
            .route(web::post().to(account::registration_finish)),
    )
    .service(
        resource("/consent", BOTH)
            .route(get().to(consent::get))
            .route(web::post().to(consent::post)),
    )
    .service(resource("/token", POST).route(web::post().to(token::token)))
    .service(resource("/introspect", POST).route(web::post().to(token::introspect)))
    .service(resource("/revoke", POST).route(web::post().to(token::revoke)))
    .service(
        resource("/userinfo", BOTH)
            .route(get().to(userinfo::get))
            .route(web::post().to(userinfo::post)),
    )
    .service(
        resource("/logout", BOTH)
            .route(get().to(logout::get))
            .route(web::post().to(logout::post)),
    )
    .service(
        resource("/passkeys/registration/start", POST)
            .route(web::post().to(passkeys::registration_start)),
    )
    .service(
        resource("/passkeys/registration/finish", POST)
            .route(web::post().to(passkeys::registration_finish)),
    )
    .service(
        resource("/passkeys/authentication/start", POST)
            .route(web::post().to(passkeys::authentication_start)),
    )
    .service(
        resource("/passkeys/authentication/finish", POST)
            .route(web::post().to(passkeys::authentication_finish)),
    )
    .service(resource("/healthz", GET).route(get().to(health::healthz)))
    .service(resource("/readyz", GET).route(get().to(health::readyz)))
    .service(resource("/metrics", GET).route(get().to(health::metrics)))
    .default_service(web::to(|| async { error::not_found() }));
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
    if !app.passkeys.enabled() {
        // WebAuthn needs a domain as relying-party id; `localhost` is one
        // browsers accept over plain http.
        println!(
            "tessera: passkeys are off: the issuer's host is not a domain. On this machine, \
             start with TESSERA_ISSUER=http://localhost:{} and open that address to use them \
             (or set webauthn_rp_id and webauthn_origins)",
            addr.port()
        );
    }
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
