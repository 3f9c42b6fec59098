//! `/api-docs`: the API reference, rendered from the server's own OpenAPI document. Public.

use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::api;
use crate::components::{ErrorBanner, Loading};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
/// Tags in reading order; others follow alphabetically.
const TAG_ORDER: [&str; 8] = [
    "auth",
    "tenants",
    "environments",
    "users",
    "api-keys",
    "audit",
    "app",
    "operations",
];

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    crate::components::page_title("API reference");
    let doc = LocalResource::new(api::docs::openapi);
    let body = move || match doc.get() {
        None => view! { <Loading label="Loading the API reference…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the API reference" failure=failure on_retry=move || doc.refetch() />
        }
        .into_any(),
        Some(Ok(doc)) => render_doc(&doc),
    };
    view! {
        <div class="page api-docs" data-testid="api-docs-page">
            {body}
        </div>
    }
}

struct Operation {
    method: String,
    path: String,
    op: Value,
}

fn tag_title(tag: &str) -> String {
    match tag {
        "auth" => "Authentication".to_string(),
        "api-keys" => "API keys".to_string(),
        "app" => "For your app (API key)".to_string(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

fn groups(doc: &Value) -> Vec<(String, Vec<Operation>)> {
    let mut groups: Vec<(String, Vec<Operation>)> = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return groups;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let tag = op
                .get("tags")
                .and_then(Value::as_array)
                .and_then(|tags| tags.first())
                .and_then(Value::as_str)
                .unwrap_or("other")
                .to_string();
            let operation = Operation {
                method: method.to_string(),
                path: path.clone(),
                op: op.clone(),
            };
            match groups.iter_mut().find(|(name, _)| *name == tag) {
                Some((_, ops)) => ops.push(operation),
                None => groups.push((tag, vec![operation])),
            }
        }
    }
    groups.sort_by_key(|(tag, _)| {
        (
            TAG_ORDER.iter().position(|t| t == tag).unwrap_or(TAG_ORDER.len()),
            tag.clone(),
        )
    });
    groups
}

fn render_doc(doc: &Value) -> AnyView {
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    let title = str_at(&info, "title").unwrap_or("API reference").to_string();
    let version = str_at(&info, "version").unwrap_or_default().to_string();
    let description = str_at(&info, "description").unwrap_or_default().to_string();
    let version_openapi = str_at(doc, "openapi").unwrap_or_default().to_string();
    let groups = groups(doc);
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let toc = groups
        .iter()
        .map(|(tag, ops)| {
            let href = format!("#tag-{tag}");
            let label = tag_title(tag);
            let count = ops.len();
            view! {
                <li>
                    <a href=href>{label}</a>
                    " "
                    <span class="muted small">{format!("({count})")}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <header class="page-header">
            <p class="eyebrow">"API reference"</p>
            <h1>{title} " " <span class="badge neutral">{format!("v{version}")}</span></h1>
            <p class="lead">{rich_text(&description)}</p>
            <p class="muted small">
                "Generated from " <a href="/api/openapi.json" rel="external" target="_blank">"/api/openapi.json"</a>
                {format!(" (OpenAPI {version_openapi}). Paths are relative to this server.")}
            </p>
        </header>
        <nav class="card toc" aria-label="API sections">
            <h2 class="small-heading">"Sections"</h2>
            <ul>
                {toc}
                <li>
                    <a href="#schemas">"Schemas"</a>
                </li>
            </ul>
        </nav>
        {groups
            .into_iter()
            .map(|(tag, ops)| {
                view! {
                    <section class="api-group" id=format!("tag-{tag}") data-testid="api-group" data-tag=tag.clone()>
                        <h2>{tag_title(&tag)}</h2>
                        {ops.into_iter().map(render_operation).collect_view()}
                    </section>
                }
            })
            .collect_view()}
        <section class="api-group" id="schemas">
            <h2>"Schemas"</h2>
            {schemas.into_iter().map(|(name, schema)| render_schema(name, schema)).collect_view()}
        </section>
    }
    .into_any()
}

fn render_operation(operation: Operation) -> impl IntoView {
    let Operation { method, path, op } = operation;
    let summary = str_at(&op, "summary").map(one_line);
    let description = str_at(&op, "description").map(one_line);
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let body = op.get("requestBody").cloned();
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let auth = auth_text(&op);
    let method_class = format!("method method-{method}");
    let data_path = path.clone();
    view! {
        <article class="card operation" data-testid="api-operation" data-method=method.to_uppercase() data-path=data_path>
            <div class="operation-head">
                <span class=method_class>{method.to_uppercase()}</span>
                <code class="operation-path">{path}</code>
                <span class="auth-tag">{auth}</span>
            </div>
            {summary.map(|s| view! { <p class="operation-summary">{rich_text(&s)}</p> })}
            {description.map(|d| view! { <p class="muted">{rich_text(&d)}</p> })}
            {(!params.is_empty())
                .then(|| {
                    view! {
                        <h4>"Parameters"</h4>
                        <div class="table-wrap">
                            <table class="compact-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"In"</th>
                                        <th scope="col">"Type"</th>
                                        <th scope="col">"Description"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {params.into_iter().map(render_param).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })}
            {body
                .map(|body| {
                    let schema = body.pointer("/content/application~1json/schema").cloned().unwrap_or(Value::Null);
                    let required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
                    view! {
                        <h4>"Request body"</h4>
                        <p>
                            <code>"application/json"</code>
                            " "
                            {type_view(&schema)}
                            {required.then_some(" (required)")}
                        </p>
                    }
                })}
            <h4>"Responses"</h4>
            <ul class="responses">
                {responses.into_iter().map(|(status, response)| render_response(status, response)).collect_view()}
            </ul>
        </article>
    }
}

fn render_param(param: Value) -> impl IntoView {
    let name = str_at(&param, "name").unwrap_or_default().to_string();
    let location = str_at(&param, "in").unwrap_or_default().to_string();
    let required = param.get("required").and_then(Value::as_bool).unwrap_or(false);
    let description = str_at(&param, "description").map(one_line).unwrap_or_default();
    let schema = param.get("schema").cloned().unwrap_or(Value::Null);
    view! {
        <tr>
            <td>
                <code>{name}</code>
                {required.then(|| view! { <span class="required" title="required">"*"</span> })}
            </td>
            <td>{location}</td>
            <td>{type_view(&schema)}</td>
            <td>{rich_text(&description)}</td>
        </tr>
    }
}

fn render_response(status: String, response: Value) -> impl IntoView {
    let code: u16 = status.parse().unwrap_or(0);
    let description = str_at(&response, "description")
        .filter(|d| !d.is_empty())
        .map(one_line)
        .unwrap_or_else(|| default_description(code));
    let schema = response.pointer("/content/application~1json/schema").cloned();
    let class = format!(
        "status status-{}",
        match code {
            200..=299 => "ok",
            400..=499 => "client",
            _ => "server",
        }
    );
    view! {
        <li>
            <span class=class>{status}</span>
            " "
            {rich_text(&description)}
            {schema.map(|schema| view! { <span class="muted">" → "</span> {type_view(&schema)} })}
        </li>
    }
}

/// For responses the document does not describe: what the status means.
fn default_description(code: u16) -> String {
    let reason = match code {
        200 => "OK",
        201 => "Created",
        204 => "No content",
        400 => "Bad request",
        401 => "Not authenticated",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        429 => "Too many requests",
        500 => "Internal error",
        503 => "Unavailable",
        _ => "",
    };
    reason.to_string()
}

fn auth_text(op: &Value) -> &'static str {
    let schemes: Vec<&str> = op
        .get("security")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .flat_map(|requirement| requirement.keys().map(String::as_str))
                .collect()
        })
        .unwrap_or_default();
    if schemes.contains(&"api_key") {
        "API key (Bearer)"
    } else if schemes.contains(&"session") {
        "Session cookie"
    } else {
        "Public"
    }
}

fn render_schema(name: String, schema: Value) -> impl IntoView {
    let description = str_at(&schema, "description").map(one_line);
    let properties = schema.get("properties").and_then(Value::as_object).cloned();
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let values: Option<Vec<String>> = schema.get("enum").and_then(Value::as_array).map(|list| {
        list.iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect()
    });
    let shape = match (properties, values) {
        (Some(properties), _) => render_properties(properties, required).into_any(),
        (None, Some(values)) => view! {
            <p>
                "One of: "
                {values
                    .into_iter()
                    .map(|value| view! { <code class="enum-value">{value}</code> " " })
                    .collect_view()}
            </p>
        }
        .into_any(),
        (None, None) => view! { <p>"Type: " {type_view(&schema)}</p> }.into_any(),
    };
    let anchor = format!("schema-{name}");
    view! {
        <article class="card schema" id=anchor>
            <h3>
                <code>{name}</code>
            </h3>
            {description.map(|d| view! { <p class="muted">{rich_text(&d)}</p> })}
            {shape}
        </article>
    }
}

fn render_properties(properties: Map<String, Value>, required: Vec<String>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="compact-table">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Description"</th>
                    </tr>
                </thead>
                <tbody>
                    {properties
                        .into_iter()
                        .map(|(field, schema)| {
                            let is_required = required.contains(&field);
                            let description = str_at(&schema, "description").map(one_line).unwrap_or_default();
                            view! {
                                <tr>
                                    <td>
                                        <code>{field}</code>
                                        {is_required.then(|| view! { <span class="required" title="required">"*"</span> })}
                                    </td>
                                    <td>{type_view(&schema)}</td>
                                    <td>{rich_text(&description)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `TenantId`, `ApiKey[]`, `string | null` …; references link to their schema.
fn type_view(schema: &Value) -> AnyView {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference).to_string();
        return view! {
            <a class="type-ref" href=format!("#schema-{name}")>
                {name.clone()}
            </a>
        }
        .into_any();
    }
    if let Some(variants) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let parts: Vec<AnyView> = variants.iter().map(type_view).collect();
        let count = parts.len();
        return parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| view! { {part} {(i + 1 < count).then_some(" | ")} })
            .collect_view()
            .into_any();
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if types.iter().any(|t| t == "array") {
        let items = schema.get("items").cloned().unwrap_or(Value::Null);
        return view! { <span class="type">{type_view(&items)} "[]"</span> }.into_any();
    }
    let mut text = if types.is_empty() {
        "any".to_string()
    } else {
        types.join(" | ")
    };
    if let Some(format) = str_at(schema, "format") {
        text.push_str(&format!(" ({format})"));
    }
    view! { <span class="type">{text}</span> }.into_any()
}

fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// Doc comments arrive with their line breaks; read them as one paragraph.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text with `code spans`.
fn rich_text(text: &str) -> impl IntoView + use<> {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                view! { <code>{part.to_string()}</code> }.into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}
