//! The pages a person sees at the CRM during an OAuth connect: the consent page (which app,
//! which account, which permissions; Approve or Deny) and an error page for requests that must
//! not be redirected (unknown app, unregistered redirect URI), and the redirect back to the app.

/// Back to the app: the redirect URI with query parameters appended (`code`, `state`, `error`).
pub fn redirect_with(uri: &str, params: &[(&str, &str)]) -> actix_web::HttpResponse {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = if uri.contains('?') { '&' } else { '?' };
    actix_web::HttpResponse::Found()
        .insert_header((actix_web::http::header::LOCATION, format!("{uri}{separator}{query}")))
        .finish()
}

pub struct ConsentPage<'a> {
    pub crm: &'a str,
    pub app_name: &'a str,
    pub account_name: &'a str,
    pub user: &'a str,
    pub scopes: &'a [String],
    /// Where the form posts its decision.
    pub action: &'a str,
    /// The authorization request, carried through the form unchanged.
    pub hidden: &'a [(&'a str, String)],
}

pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            other => other.to_string(),
        })
        .collect()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:48px 16px;color:#1f2933}\
main{max-width:460px;margin:0 auto;background:#fff;border-radius:10px;padding:32px;box-shadow:0 2px 12px rgba(0,0,0,.08)}\
h1{font-size:1.3rem;margin:0 0 4px}.crm{font-size:.8rem;letter-spacing:.08em;text-transform:uppercase;color:#616e7c}\
ul{padding-left:20px}li{margin:4px 0}.buttons{display:flex;gap:12px;margin-top:24px}\
button{flex:1;padding:10px 14px;border-radius:6px;font-size:1rem;cursor:pointer;border:1px solid #cbd2d9;background:#fff}\
button.approve{background:#1f6feb;border-color:#1f6feb;color:#fff}.note{color:#616e7c;font-size:.85rem}";

pub fn consent_page(page: &ConsentPage<'_>) -> String {
    let scopes: String = page
        .scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let hidden: String = page
        .hidden
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Connect {app} to {crm}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">\
         <style>{STYLE}</style></head><body><main>\
         <div class=\"crm\">{crm} sandbox</div><h1>Connect {app}</h1>\
         <p><strong>{app}</strong> asks for access to the {crm} account <strong>{account}</strong> \
         (you are signed in as {user}).</p><p>It will be able to:</p><ul>{scopes}</ul>\
         <form method=\"post\" action=\"{action}\">{hidden}<div class=\"buttons\">\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"decision\" value=\"approve\" class=\"approve\">Approve</button>\
         </div></form><p class=\"note\">This is Tandem's local emulation of {crm}; no data leaves this machine.</p>\
         </main></body></html>",
        app = escape(page.app_name),
        crm = escape(page.crm),
        account = escape(page.account_name),
        user = escape(page.user),
        action = escape(page.action),
    )
}

pub fn error_page(crm: &str, title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head><body><main>\
         <div class=\"crm\">{crm} sandbox</div><h1>{title}</h1><p>{message}</p></main></body></html>",
        crm = escape(crm),
        title = escape(title),
        message = escape(message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        let html = consent_page(&ConsentPage {
            crm: "HubSpot",
            app_name: "<script>x</script>",
            account_name: "Acme \"Demo\"",
            user: "a@b.c",
            scopes: &["crm.objects.contacts.read".to_string()],
            action: "/authorize",
            hidden: &[("state", "a\"><b>".to_string())],
        });
        assert!(!html.contains("<script>x"));
        assert!(html.contains("&lt;script&gt;") && html.contains("Acme &quot;Demo&quot;"));
        assert!(html.contains("value=\"a&quot;&gt;&lt;b&gt;\""));
        assert!(html.contains("value=\"approve\"") && html.contains("value=\"deny\""));
    }
}
