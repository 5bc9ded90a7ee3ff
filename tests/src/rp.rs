//! The `openidconnect` crate as a real relying party.

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, ClientId, ClientSecret, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IntrospectionUrl, IssuerUrl, ProviderMetadata, RedirectUrl,
    RevocationUrl,
};
use serde::{Deserialize, Serialize};

use crate::admin::RegisteredClient;
use crate::server::Server;

/// Discovery members beyond OIDC Discovery 1.0 that Tessera publishes.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TesseraMetadata {
    pub end_session_endpoint: Option<EndSessionUrl>,
    pub revocation_endpoint: Option<RevocationUrl>,
    pub introspection_endpoint: Option<IntrospectionUrl>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
}

impl AdditionalProviderMetadata for TesseraMetadata {}

/// Provider metadata with [`TesseraMetadata`].
pub type TesseraProviderMetadata = ProviderMetadata<
    TesseraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client built from discovery with the introspection endpoint set.
pub type RpClient = CoreClient<
    EndpointSet,      // authorization
    EndpointNotSet,   // device authorization
    EndpointSet,      // introspection
    EndpointNotSet,   // revocation (the crate refuses non-https revocation URLs)
    EndpointMaybeSet, // token
    EndpointMaybeSet, // userinfo
>;

/// The crate's async HTTP client: reqwest with redirects disabled (as the crate advises).
pub fn http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("build reqwest client")
}

/// OIDC Discovery against the server's issuer (the crate checks the issuer and fetches JWKS).
pub async fn discover(
    server: &Server,
    http: &openidconnect::reqwest::Client,
) -> TesseraProviderMetadata {
    let issuer = IssuerUrl::new(server.issuer().to_string()).expect("issuer URL");
    TesseraProviderMetadata::discover_async(issuer, http)
        .await
        .unwrap_or_else(|e| panic!("discovery failed: {e:?}"))
}

/// A relying party for `client` from discovered `metadata`.
pub fn client(metadata: &TesseraProviderMetadata, client: &RegisteredClient) -> RpClient {
    let introspection = metadata
        .additional_metadata()
        .introspection_endpoint
        .clone()
        .expect("discovery lacks introspection_endpoint");
    let mut rp = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(client.client_id.clone()),
        client.client_secret.clone().map(ClientSecret::new),
    )
    .set_introspection_url(introspection);
    if let Some(uri) = &client.redirect_uri {
        rp = rp.set_redirect_uri(RedirectUrl::new(uri.clone()).expect("redirect URI"));
    }
    rp
}
