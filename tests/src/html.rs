//! Just enough HTML reading for the login and consent pages: forms, their inputs and buttons.
//! Tolerant of attribute order, quoting style, letter case and character references.

/// One `<input>` or `<button>` of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// `input` or `button` (lowercase).
    pub tag: String,
    /// Lowercased `type` (`text` for inputs without one, `submit` for buttons without one).
    pub kind: String,
    pub name: Option<String>,
    pub value: Option<String>,
}

/// One `<form>` of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub action: Option<String>,
    /// Lowercased, `get` when absent.
    pub method: String,
    pub fields: Vec<Field>,
}

impl Form {
    /// Value of the first field called `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .and_then(|f| f.value.as_deref())
    }

    /// Whether the form has a field called `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name.as_deref() == Some(name))
    }

    /// `(name, value)` of every hidden input.
    pub fn hidden(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| f.tag == "input" && f.kind == "hidden")
            .filter_map(|f| Some((f.name.clone()?, f.value.clone().unwrap_or_default())))
            .collect()
    }

    /// The submit control named `name` with value `value`, if any.
    pub fn submit(&self, name: &str, value: &str) -> Option<&Field> {
        self.fields.iter().find(|f| {
            f.kind == "submit"
                && f.name.as_deref() == Some(name)
                && f.value.as_deref() == Some(value)
        })
    }
}

/// Every form in `html`.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = find_tag(&lower, "form", pos) {
        let Some((attrs, tag_end)) = tag_attributes(html, start + "<form".len()) else {
            break;
        };
        let body_end = lower[tag_end..]
            .find("</form")
            .map(|i| tag_end + i)
            .unwrap_or(html.len());
        let inner = &html[tag_end..body_end];
        out.push(Form {
            action: attr(&attrs, "action"),
            method: attr(&attrs, "method")
                .map(|m| m.to_ascii_lowercase())
                .unwrap_or_else(|| "get".to_string()),
            fields: fields(inner),
        });
        pos = body_end.max(tag_end);
    }
    out
}

/// The first form whose `action` path is `path` (query string ignored, absolute URLs allowed).
pub fn form_with_action(html: &str, path: &str) -> Option<Form> {
    forms(html)
        .into_iter()
        .find(|f| f.action.as_deref().map(action_path) == Some(path))
}

fn action_path(action: &str) -> &str {
    let no_query = action.split(['?', '#']).next().unwrap_or("");
    if let Some(rest) = no_query
        .strip_prefix("http://")
        .or_else(|| no_query.strip_prefix("https://"))
    {
        return rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    }
    no_query
}

fn fields(inner: &str) -> Vec<Field> {
    let lower = inner.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let next_input = find_tag(&lower, "input", pos);
        let next_button = find_tag(&lower, "button", pos);
        let (start, tag) = match (next_input, next_button) {
            (Some(i), Some(b)) if i < b => (i, "input"),
            (Some(_), Some(b)) => (b, "button"),
            (Some(i), None) => (i, "input"),
            (None, Some(b)) => (b, "button"),
            (None, None) => break,
        };
        let Some((attrs, end)) = tag_attributes(inner, start + 1 + tag.len()) else {
            break;
        };
        let kind = attr(&attrs, "type")
            .map(|t| t.to_ascii_lowercase())
            .unwrap_or_else(|| {
                if tag == "button" {
                    "submit".to_string()
                } else {
                    "text".to_string()
                }
            });
        out.push(Field {
            tag: tag.to_string(),
            kind,
            name: attr(&attrs, "name"),
            value: attr(&attrs, "value"),
        });
        pos = end;
    }
    out
}

/// Finds `<NAME` followed by whitespace, `>` or `/` at or after `from` in lowercased html.
fn find_tag(lower: &str, name: &str, from: usize) -> Option<usize> {
    let needle = format!("<{name}");
    let mut pos = from;
    while let Some(i) = lower.get(pos..)?.find(&needle) {
        let at = pos + i;
        let after = lower.as_bytes().get(at + needle.len()).copied();
        match after {
            Some(c) if c.is_ascii_whitespace() || c == b'>' || c == b'/' => return Some(at),
            None => return None,
            _ => pos = at + needle.len(),
        }
    }
    None
}

/// Parses attributes starting right after the tag name; returns them (names lowercased,
/// values decoded) and the index just past the closing `>`.
type Attributes = Vec<(String, Option<String>)>;

fn tag_attributes(html: &str, mut i: usize) -> Option<(Attributes, usize)> {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        if b[i] == b'>' {
            return Some((attrs, i + 1));
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            let value = if b[i] == b'"' || b[i] == b'\'' {
                let quote = b[i];
                let start = i + 1;
                let end = start + html[start..].bytes().position(|c| c == quote)?;
                i = end + 1;
                &html[start..end]
            } else {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                &html[start..i]
            };
            attrs.push((name, Some(decode_entities(value))));
        } else {
            attrs.push((name, None));
        }
    }
}

fn attr(attrs: &[(String, Option<String>)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone().unwrap_or_default())
}

/// Decodes the character references a server-side template produces.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => {
                if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse::<u32>().ok().and_then(char::from_u32)
                } else {
                    None
                }
            }
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_login_form() {
        let html = r#"<!doctype html><html><body>
            <FORM Method="POST" action='/login'>
              <label for=u>Username</label><input id=u name=username autocomplete="username">
              <input type="password" name="password">
              <input value="a&amp;b&#x2F;c&#47;d" type=hidden name="csrf_token"/>
              <INPUT TYPE="HIDDEN" NAME="req" VALUE="r-123">
              <button type="submit">Sign in</button>
            </form>
            <form action="/other"><input type=hidden name=x value=y></form>
            </body></html>"#;
        let form = form_with_action(html, "/login").expect("login form");
        assert_eq!(form.method, "post");
        assert_eq!(form.value("csrf_token"), Some("a&b/c/d"));
        assert_eq!(form.value("req"), Some("r-123"));
        assert!(form.has_field("username"));
        assert!(form.has_field("password"));
        assert_eq!(form.hidden().len(), 2);
        assert_eq!(forms(html).len(), 2);
    }

    #[test]
    fn reads_consent_buttons_and_absolute_actions() {
        let html = r#"<form method="post" action="http://127.0.0.1:9/consent?x=1">
            <input type="hidden" name="req" value="q"><input type="hidden" name="csrf_token" value="t">
            <button name="decision" value="approve">Allow</button>
            <button name="decision" value="deny" type="submit">Deny</button></form>"#;
        let form = form_with_action(html, "/consent").expect("consent form");
        assert!(form.submit("decision", "approve").is_some());
        assert!(form.submit("decision", "deny").is_some());
        assert!(form.submit("decision", "maybe").is_none());
    }

    #[test]
    fn decodes_entities() {
        assert_eq!(
            decode_entities("&lt;a&gt; &quot;&#39;&apos; & x"),
            "<a> \"'' & x"
        );
        assert_eq!(decode_entities("&unknown; &#x41;"), "&unknown; A");
    }
}
