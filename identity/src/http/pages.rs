//! Server-rendered pages: plain HTML forms that work without JavaScript,
//! with labels for assistive technology. Every value is HTML-escaped.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Tessera</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }}
h1 {{ font-size: 1.4rem; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input[type=text], input[type=password] {{ width: 100%; padding: .6rem; font-size: 1rem; box-sizing: border-box; }}
button {{ margin-top: 1.2rem; padding: .6rem 1.2rem; font-size: 1rem; }}
.error {{ color: #a4000f; border-left: 4px solid #a4000f; padding-left: .6rem; }}
ul.scopes li {{ margin: .3rem 0; }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"#,
        title = text(title),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        attr(name),
        attr(value)
    )
}

pub struct LoginPage<'a> {
    pub request_id: &'a str,
    pub csrf_token: &'a str,
    pub client_name: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    /// Passkeys are configured on this provider.
    pub passkeys: bool,
    /// The client asked for phishing-resistant sign-in: no password form.
    pub passkey_only: bool,
}

pub fn login(page: &LoginPage<'_>) -> String {
    let error = page
        .error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, text(e)))
        .unwrap_or_default();
    let password_form = if page.passkey_only {
        "<p>This application asks you to sign in with a passkey.</p>".to_string()
    } else {
        format!(
            r#"<form method="post" action="/login">
{req}
{csrf}
<label for="username">Username or email</label>
<input type="text" id="username" name="username" value="{username}" autocomplete="username webauthn" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"#,
            req = hidden("req", page.request_id),
            csrf = hidden("csrf_token", page.csrf_token),
            username = attr(page.username),
        )
    };
    let passkey = if page.passkeys {
        format!(
            r#"<div id="passkey" data-req="{req}" data-csrf="{csrf}"{hidden}>
<button type="button" id="passkey-signin">Sign in with a passkey</button>
<p class="error" role="alert" id="passkey-error" hidden></p>
</div>
<script src="/assets/passkeys.js" defer></script>"#,
            req = attr(page.request_id),
            csrf = attr(page.csrf_token),
            // Shown by the script when the browser supports passkeys; a
            // passkey-only page shows it regardless.
            hidden = if page.passkey_only { "" } else { " hidden" },
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<h1>Sign in</h1>
<p>to continue to <strong>{client}</strong></p>
{error}
{password_form}
{passkey}"#,
        client = text(page.client_name),
    );
    layout("Sign in", &body)
}

pub struct ConsentPage<'a> {
    pub request_id: &'a str,
    pub csrf_token: &'a str,
    pub client_name: &'a str,
    pub scopes: &'a [String],
}

fn scope_text(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are (your account identifier)".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Stay signed in when you are not using it".into(),
        other => format!("Use the permission “{other}”"),
    }
}

pub fn consent(page: &ConsentPage<'_>) -> String {
    let scopes: String = page
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", text(&scope_text(s))))
        .collect();
    let body = format!(
        r#"<h1>Allow access?</h1>
<p><strong>{client}</strong> wants to:</p>
<ul class="scopes">{scopes}</ul>
<form method="post" action="/consent">
{req}
{csrf}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>"#,
        client = text(page.client_name),
        req = hidden("req", page.request_id),
        csrf = hidden("csrf_token", page.csrf_token),
    );
    layout("Allow access", &body)
}

/// One passkey row of the account page.
pub struct PasskeyRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub created: String,
    pub last_used: String,
    pub kind: &'a str,
    pub possibly_cloned: bool,
}

pub struct AccountPage<'a> {
    pub username: &'a str,
    pub csrf_token: &'a str,
    pub passkeys: Vec<PasskeyRow<'a>>,
    /// Adding and removing need a sign-in within the last few minutes.
    pub recently_authenticated: bool,
    pub passkeys_enabled: bool,
    pub message: Option<&'a str>,
}

pub fn account(page: &AccountPage<'_>) -> String {
    let message = page
        .message
        .map(|m| format!(r#"<p class="error" role="alert">{}</p>"#, text(m)))
        .unwrap_or_default();
    let rows: String = page
        .passkeys
        .iter()
        .map(|k| {
            let remove = if page.recently_authenticated {
                format!(
                    r#"<form method="post" action="/account/passkeys/remove">{csrf}{id}<button type="submit">Remove</button></form>"#,
                    csrf = hidden("csrf_token", page.csrf_token),
                    id = hidden("id", k.id),
                )
            } else {
                String::new()
            };
            format!(
                r#"<li class="passkey"><strong>{name}</strong> ({kind}{cloned}) · added {created} · last used {used}
<form method="post" action="/account/passkeys/rename">{csrf}{id}<label for="rename-{aid}">New name</label><input type="text" id="rename-{aid}" name="name" value="{vname}" required><button type="submit">Rename</button></form>
{remove}</li>"#,
                name = text(k.name),
                kind = text(k.kind),
                cloned = if k.possibly_cloned { ", blocked: possibly cloned" } else { "" },
                created = text(&k.created),
                used = text(&k.last_used),
                csrf = hidden("csrf_token", page.csrf_token),
                id = hidden("id", k.id),
                aid = attr(k.id),
                vname = attr(k.name),
            )
        })
        .collect();
    let list = if rows.is_empty() {
        "<p>You have no passkeys yet.</p>".to_string()
    } else {
        format!(r#"<ul class="passkeys">{rows}</ul>"#)
    };
    let add = if !page.passkeys_enabled {
        String::new()
    } else if page.recently_authenticated {
        format!(
            r#"<form id="add-passkey" data-csrf="{csrf}" hidden>
<label for="passkey-name">Name for the new passkey</label>
<input type="text" id="passkey-name" name="name" value="My passkey" required>
<button type="submit">Add a passkey</button>
<p class="error" role="alert" id="add-passkey-status" hidden></p>
</form>
<script src="/assets/account.js" defer></script>"#,
            csrf = attr(page.csrf_token)
        )
    } else {
        r#"<p>To add or remove a passkey, <a href="/account/reauth">confirm it is you</a> first.</p>"#.to_string()
    };
    let body = format!(
        r#"<h1>Your account</h1>
<p>Signed in as <strong>{user}</strong>. <a href="/logout">Sign out</a></p>
{message}
<h2>Passkeys</h2>
{list}
{add}"#,
        user = text(page.username),
    );
    layout("Your account", &body)
}

pub fn error(title: &str, message: &str) -> String {
    let body = format!(
        r#"<h1>{}</h1>
<p class="error" role="alert">{}</p>
<p>Return to the application and try again.</p>"#,
        text(title),
        text(message)
    );
    layout(title, &body)
}

pub fn signed_out() -> String {
    layout(
        "Signed out",
        "<h1>You are signed out</h1><p>You can close this window.</p>",
    )
}

/// `carry`: the logout parameters to send again with the confirmation
/// (client, post-logout redirect, state), already checked.
pub fn confirm_logout(csrf_token: &str, carry: &[(&str, &str)]) -> String {
    let carried: String = carry.iter().map(|(k, v)| hidden(k, v)).collect();
    let body = format!(
        r#"<h1>Sign out?</h1>
<form method="post" action="/logout">
{}
{carried}
<button type="submit" name="confirm" value="yes">Sign out</button>
</form>"#,
        hidden("csrf_token", csrf_token)
    );
    layout("Sign out", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let html = login(&LoginPage {
            request_id: "r\"><script>",
            csrf_token: "t",
            client_name: "<b>evil</b>",
            username: "\" onfocus=\"x",
            error: Some("<img>"),
            passkeys: true,
            passkey_only: false,
        });
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>evil"));
        assert!(!html.contains("<img>"));
        assert!(!html.contains("\" onfocus"));
    }
}
