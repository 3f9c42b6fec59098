//! `/t/:tenant_id/pipelines/:pipeline_id/mapping/:flow`: the mapping editor. One row per target
//! field with where its value comes from and the transforms on the way; beside it both sides'
//! live field lists (the CRM's read from the CRM now: types, custom fields, picklist values).
//! Value tables are edited as the CRM's own picklist values, several onto one. Every edit is
//! checked against the live fields once typing settles, each problem shown on its row; a preview
//! applies the unsaved mapping to a real recent record. Saving makes a new version; any older
//! version can be viewed and restored (as a new version).

use std::collections::BTreeMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::Value;
use tandem_shared::api::mappings::{
    ConfigError, FieldInfo, FieldRule, MappingConfig, MappingFields, MappingValidation, PreviewMappingRequest,
    PreviewResult, SideFields, Source, Transform, ValueTable, ValueTableEntry,
};
use tandem_shared::api::pipelines::MappingVersion;
use tandem_shared::ids::PipelineId;
use uuid::Uuid;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, ErrorBanner, Loading, browser_now, format_time, relative_time};

/// The draft being edited: the rules keyed so that rows keep their inputs while others change.
#[derive(Clone, Copy)]
struct Draft {
    /// The loaded config, for what the editor does not show (object, direction, email rules).
    base: RwSignal<Option<MappingConfig>>,
    rules: RwSignal<Vec<(u32, FieldRule)>>,
    tables: RwSignal<BTreeMap<String, ValueTable>>,
    next_key: StoredValue<u32>,
    /// Bumped by every edit; checks run once edits settle.
    revision: RwSignal<u32>,
    /// The version the draft started from.
    version: RwSignal<Option<i64>>,
}

impl Draft {
    fn new() -> Draft {
        Draft {
            base: RwSignal::new(None),
            rules: RwSignal::new(Vec::new()),
            tables: RwSignal::new(BTreeMap::new()),
            next_key: StoredValue::new(0),
            revision: RwSignal::new(0),
            version: RwSignal::new(None),
        }
    }

    fn key(&self) -> u32 {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        key
    }

    fn load(&self, config: &MappingConfig, version: Option<i64>) {
        let rules = config.fields.iter().map(|rule| (self.key(), rule.clone())).collect();
        self.rules.set(rules);
        self.tables.set(config.value_tables.clone());
        self.base.set(Some(config.clone()));
        self.version.set(version);
        self.revision.update(|r| *r += 1);
    }

    fn edited(&self) {
        self.revision.update(|r| *r += 1);
    }

    /// Whether the draft differs from the version it started from (an edit undone is no change).
    fn dirty(&self) -> bool {
        self.base.with(|base| {
            base.as_ref().is_some_and(|base| {
                self.tables.with(|tables| *tables != base.value_tables)
                    || self.rules.with(|rules| {
                        rules.len() != base.fields.len() || rules.iter().zip(&base.fields).any(|((_, a), b)| a != b)
                    })
            })
        })
    }

    /// The draft as a mapping, as it would be saved.
    fn config(&self) -> Option<MappingConfig> {
        let mut config = self.base.get_untracked()?;
        config.fields = self.rules.get_untracked().into_iter().map(|(_, rule)| rule).collect();
        config.value_tables = self.tables.get_untracked();
        Some(config)
    }

    fn rule(&self, key: u32) -> Option<FieldRule> {
        self.rules
            .with(|rules| rules.iter().find(|(k, _)| *k == key).map(|(_, rule)| rule.clone()))
    }

    fn update_rule(&self, key: u32, change: impl FnOnce(&mut FieldRule)) {
        self.rules.update(|rules| {
            if let Some((_, rule)) = rules.iter_mut().find(|(k, _)| *k == key) {
                change(rule);
            }
        });
        self.edited();
    }

    fn add_rule(&self, rule: FieldRule) {
        let key = self.key();
        self.rules.update(|rules| rules.push((key, rule)));
        self.edited();
    }

    fn remove_rule(&self, key: u32) {
        self.rules.update(|rules| rules.retain(|(k, _)| *k != key));
        self.edited();
    }

    fn update_table(&self, name: &str, change: impl FnOnce(&mut ValueTable)) {
        self.tables.update(|tables| {
            if let Some(table) = tables.get_mut(name) {
                change(table);
            }
        });
        self.edited();
    }
}

fn find<'a>(side: &'a SideFields, name: &str) -> Option<&'a FieldInfo> {
    side.fields.iter().find(|f| f.name == name)
}

/// `lifecyclestage` is the rule of `lifecyclestage`, `line_items[].price` and `address.city` of
/// `line_items` and `address`.
fn belongs_to(error_field: &str, target: &str) -> bool {
    error_field == target
        || error_field
            .strip_prefix(target)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
}

/// `HubSpot (acme.hubspot.test)` → `HubSpot`, for narrow places.
fn short_system(system: &str) -> &str {
    system.split(" (").next().unwrap_or(system)
}

fn source_text(source: &Option<Source>) -> String {
    source.as_ref().map(|s| s.fields().join(", ")).unwrap_or_default()
}

/// `first_name, last_name` → two fields; empty → none.
fn parse_source(text: &str) -> Option<Source> {
    let fields: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    match fields.len() {
        0 => None,
        1 => fields.into_iter().next().map(Source::Field),
        _ => Some(Source::Fields(fields)),
    }
}

/// The transforms offered, by their `kind`, with what people call them.
const TRANSFORMS: &[(&str, &str)] = &[
    ("trim", "Trim spaces"),
    ("case", "Change case"),
    ("truncate", "Cut to length"),
    ("split_name", "Part of a full name"),
    ("join", "Join several fields"),
    ("coalesce", "First non-empty field"),
    ("email", "Email address"),
    ("phone_e164", "Phone number (E.164)"),
    ("datetime", "Date and time"),
    ("decimal", "Exact decimal"),
    ("number", "JSON number"),
    ("currency", "Currency code"),
    ("percent", "Percentage"),
    ("multiply", "Multiply fields"),
    ("bool", "Yes / no"),
    ("value_table", "Value table"),
    ("default", "Default when empty"),
    ("constant", "Always this value"),
];

fn transform_label(kind: &str) -> &'static str {
    TRANSFORMS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Transform", |(_, label)| label)
}

fn kind_of(transform: &Transform) -> String {
    serde_json::to_value(transform)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// How one setting of a transform is entered.
#[derive(Clone, Copy)]
enum Input {
    /// Text; left out when empty unless `keep_empty`.
    Text {
        keep_empty: bool,
    },
    Number,
    Choice(&'static [&'static str]),
    Check,
    /// The name of one of the mapping's value tables.
    Table,
}

/// The settings of each transform kind: its JSON key, its label and how it is entered.
fn settings_of(kind: &str) -> &'static [(&'static str, &'static str, Input)] {
    const TEXT: Input = Input::Text { keep_empty: false };
    const KEPT: Input = Input::Text { keep_empty: true };
    match kind {
        "constant" | "default" => &[("value", "Value", KEPT)],
        "case" => &[("to", "To", Input::Choice(&["lower", "upper", "title"]))],
        "truncate" => &[("max_chars", "Max characters", Input::Number)],
        "split_name" => &[("part", "Part", Input::Choice(&["first", "last"]))],
        "join" => &[("separator", "Separator", KEPT)],
        "email" => &[(
            "rules",
            "Rules",
            Input::Choice(&["", "strict", "hubspot", "salesforce"]),
        )],
        "phone_e164" => &[("default_region", "Default region (DE, US…)", TEXT)],
        "datetime" => &[
            ("from", "From (iso, epoch_ms, date, %d.%m.%Y…)", TEXT),
            ("to", "To", TEXT),
            ("time_zone", "Time zone", TEXT),
            ("source_time_zone", "Source time zone", TEXT),
        ],
        "decimal" => &[
            ("scale", "Decimal places", Input::Number),
            ("decimal_comma", "Decimal comma (1.234,5)", Input::Check),
        ],
        "percent" => &[
            ("from", "From", Input::Choice(&["percent", "fraction"])),
            ("to", "To", Input::Choice(&["percent", "fraction"])),
        ],
        "multiply" => &[("scale", "Decimal places", Input::Number)],
        "value_table" => &[("table", "Table", Input::Table)],
        _ => &[],
    }
}

/// A new transform of `kind` with workable settings; a value table gets `table`.
fn new_transform(kind: &str, table: &str) -> Option<Transform> {
    let mut value = serde_json::json!({ "kind": kind });
    let extra = match kind {
        "constant" | "default" => Some(("value", Value::String(String::new()))),
        "case" => Some(("to", "lower".into())),
        "truncate" => Some(("max_chars", 255.into())),
        "split_name" => Some(("part", "first".into())),
        "join" => Some(("separator", " ".into())),
        "value_table" => Some(("table", table.into())),
        _ => None,
    };
    if let Some((key, setting)) = extra {
        value[key] = setting;
    }
    serde_json::from_value(value).ok()
}

/// A transform with one setting changed: `Err` names the setting when the value does not fit.
fn with_setting(transform: &Transform, key: &str, label: &str, input: Input, raw: &str) -> Result<Transform, String> {
    let mut value = serde_json::to_value(transform).map_err(|e| e.to_string())?;
    let object = value.as_object_mut().ok_or("not an object")?;
    let setting = match input {
        Input::Text { keep_empty: true } => Some(Value::String(raw.to_string())),
        Input::Check => Some(Value::Bool(raw == "true")),
        _ if raw.trim().is_empty() => None,
        Input::Number => Some(
            raw.trim()
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| format!("{label}: {raw:?} is not a whole number"))?,
        ),
        _ => Some(Value::String(raw.trim().to_string())),
    };
    match setting {
        Some(setting) => object.insert(key.to_string(), setting),
        None => object.remove(key),
    };
    serde_json::from_value(value).map_err(|e| format!("{label}: {e}"))
}

fn setting_text(transform: &Transform, key: &str) -> String {
    match serde_json::to_value(transform).ok().and_then(|v| v.get(key).cloned()) {
        Some(Value::String(text)) => text,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A rule for `target`, read from the source field of the same name when there is one.
fn rule_for(target: &FieldInfo, source: Option<&SideFields>) -> FieldRule {
    let source_field = source.and_then(|s| find(s, &target.name)).map(|f| f.name.clone());
    FieldRule {
        target: target.name.clone(),
        source: source_field.map(Source::Field),
        transforms: Vec::new(),
        required: target.required,
        clear_if_empty: false,
        items: Vec::new(),
    }
}

/// A table for a rule that reads `source` into `target`: each of the source picklist's values onto
/// the target option of the same value, where there is one.
fn table_for(source: Option<&FieldInfo>, target: Option<&FieldInfo>) -> ValueTable {
    let mut table = ValueTable {
        case_insensitive: true,
        ..ValueTable::default()
    };
    if let (Some(source), Some(target)) = (source, target) {
        for option in &source.options {
            if let Some(to) = target
                .options
                .iter()
                .find(|o| o.value.eq_ignore_ascii_case(&option.value) || o.label.eq_ignore_ascii_case(&option.label))
            {
                set_mapping(&mut table, &option.value, &to.value);
            }
        }
    }
    table
}

/// Maps `from` onto `to` (removing it from any other entry); an empty `to` unmaps it.
fn set_mapping(table: &mut ValueTable, from: &str, to: &str) {
    for entry in &mut table.entries {
        entry.from.retain(|f| f != from);
    }
    if !to.is_empty() {
        match table.entries.iter_mut().find(|e| e.to == to) {
            Some(entry) => entry.from.push(from.to_string()),
            None => table.entries.push(ValueTableEntry {
                from: vec![from.to_string()],
                to: to.to_string(),
            }),
        }
    }
    table.entries.retain(|e| !e.from.is_empty());
}

fn mapped_to(table: &ValueTable, from: &str) -> String {
    table
        .entries
        .iter()
        .find(|e| e.from.iter().any(|f| f == from))
        .map(|e| e.to.clone())
        .unwrap_or_default()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[component]
pub fn MappingEditorPage() -> impl IntoView {
    crate::components::page_title("Mapping editor");
    let tenant = use_tenant();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("pipeline_id"))
            .and_then(|raw| raw.parse::<PipelineId>().ok())
            .unwrap_or(PipelineId(Uuid::nil()))
    });
    let flow = Memo::new(move |_| {
        params
            .with(|p| p.get("flow"))
            .filter(|f| f == "reverse")
            .unwrap_or_else(|| "forward".to_string())
    });
    let focus_field = Memo::new(move |_| query.with(|q| q.get("field")));

    let pipeline = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), id.get());
        async move { api::sync::pipeline(tenant_id, id).await }
    });
    let fields = LocalResource::new(move || {
        let (tenant_id, id, flow) = (tenant.id.get(), id.get(), flow.get());
        async move { api::sync::mapping_fields(tenant_id, id, &flow).await }
    });
    let field_lists = Memo::new(move |_| fields.get().and_then(Result::ok));
    let versions = LocalResource::new(move || {
        let (tenant_id, id, flow) = (tenant.id.get(), id.get(), flow.get());
        async move { api::sync::mapping_versions(tenant_id, id, &flow).await }
    });

    let draft = Draft::new();
    // The draft starts from the mapping in force (the newest version), once per pipeline and flow.
    let loaded_for = StoredValue::new(None::<(PipelineId, String)>);
    let validation = RwSignal::new(None::<MappingValidation>);
    let saved_message = RwSignal::new(None::<String>);
    let save_failure = RwSignal::new(None::<ApiFailure>);
    Effect::new(move |_| {
        let Some(Ok(list)) = versions.get() else { return };
        let which = (id.get(), flow.get());
        if loaded_for.get_value().as_ref() == Some(&which) {
            return;
        }
        // The list may still be the other flow's while this one's loads.
        if let Some(current) = list.first().filter(|v| v.flow.as_str() == which.1) {
            draft.load(&current.config, Some(current.version));
            validation.set(None);
            saved_message.set(None);
            save_failure.set(None);
            loaded_for.set_value(Some(which));
        }
    });

    // Checks against the live field lists once edits settle for half a second.
    let checking = RwSignal::new(false);
    let check_failure = RwSignal::new(None::<ApiFailure>);
    let check_now = move || {
        let Some(config) = draft.config() else { return };
        let revision = draft.revision.get_untracked();
        let (tenant_id, id, flow) = (tenant.id.get_untracked(), id.get_untracked(), flow.get_untracked());
        checking.set(true);
        spawn_local(async move {
            let result = api::sync::validate_mapping(tenant_id, id, &flow, &config).await;
            // A later edit's check supersedes this one (and a page left has nothing to show).
            if draft.revision.try_get_untracked() == Some(revision) {
                match result {
                    Ok(outcome) => {
                        validation.set(Some(outcome));
                        check_failure.set(None);
                    }
                    Err(failure) => check_failure.set(Some(failure)),
                }
                checking.set(false);
            }
        });
    };
    Effect::new(move |_| {
        let revision = draft.revision.get();
        if revision == 0 {
            return;
        }
        // A refusal was about the draft as it was.
        save_failure.set(None);
        set_timeout(
            move || {
                // The page may have been left in the meantime.
                if draft.revision.try_get_untracked() == Some(revision) {
                    check_now();
                }
            },
            Duration::from_millis(500),
        );
    });
    let errors = Memo::new(move |_| validation.with(|v| v.as_ref().map(|v| v.errors.clone()).unwrap_or_default()));

    // Arriving from a failed record: the rule of the field at fault is scrolled to and marked.
    Effect::new(move |_| {
        let Some(field) = focus_field.get() else { return };
        let key = draft
            .rules
            .with(|rules| rules.iter().find(|(_, r)| r.target == field).map(|(k, _)| *k));
        if let Some(key) = key {
            request_animation_frame(move || {
                if let Some(row) = document().get_element_by_id(&format!("rule-{key}")) {
                    row.scroll_into_view();
                }
            });
        }
    });

    let saving = RwSignal::new(false);
    let save = move |config: MappingConfig, what: String| {
        let (tenant_id, id, flow) = (tenant.id.get_untracked(), id.get_untracked(), flow.get_untracked());
        saving.set(true);
        save_failure.set(None);
        saved_message.set(None);
        spawn_local(async move {
            let outcome = api::sync::save_mapping(tenant_id, id, &flow, &config).await;
            if saving.try_get_untracked().is_none() {
                return; // The page was left while saving.
            }
            match outcome {
                Ok(version) => {
                    draft.load(&version.config, Some(version.version));
                    saved_message.set(Some(format!(
                        "{what} as version {}. The next run uses it.",
                        version.version
                    )));
                    versions.refetch();
                }
                Err(failure) => {
                    save_failure.set(Some(failure));
                    check_now();
                }
            }
            saving.set(false);
        });
    };

    let header = move || {
        pipeline.get().map(|result| match result {
            Err(failure) => view! {
                <ErrorBanner title="Could not load the pipeline" failure=failure on_retry=move || pipeline.refetch() />
            }
            .into_any(),
            Ok(p) => {
                let lists = field_lists.get();
                let (from, to) = lists
                    .map(|l| (l.source.system, l.target.system))
                    .unwrap_or_else(|| ("…".into(), "…".into()));
                let other_flow = (p.reverse_mapping.is_some()).then(|| {
                    let other = if flow.get() == "reverse" { "forward" } else { "reverse" };
                    view! {
                        <a class="button secondary small" data-testid="other-flow" href=format!("/t/{}/pipelines/{}/mapping/{other}", p.tenant_id, p.id)>
                            {if other == "reverse" { "Edit the way back" } else { "Edit the way there" }}
                        </a>
                    }
                });
                view! {
                    <div class="page-header">
                        <div>
                            <p class="eyebrow">
                                <a href=format!("/t/{}/pipelines/{}", p.tenant_id, p.id) data-testid="back-to-pipeline">{p.name.clone()}</a>
                                " / Mapping"
                            </p>
                            <h2 data-testid="mapping-title">{format!("{from} → {to}")}</h2>
                            <p class="muted">
                                "One row per field written to "
                                {to.clone()}
                                ". Changes are checked against the live field lists as you go; saving makes a new version."
                            </p>
                        </div>
                        {other_flow}
                    </div>
                }
                .into_any()
            }
        })
    };

    let status = move || {
        let version = draft.version.get();
        let dirty = draft.dirty();
        let check = if checking.get() {
            view! { <span class="muted" data-testid="mapping-check">"Checking…"</span> }.into_any()
        } else {
            match validation.get() {
                Some(v) if v.valid => {
                    view! { <span class="badge status-active" data-testid="mapping-check">"No problems found"</span> }
                        .into_any()
                }
                Some(v) => view! {
                    <span class="badge status-paused" data-testid="mapping-check">
                        {format!("{} problem{}", v.errors.len(), if v.errors.len() == 1 { "" } else { "s" })}
                    </span>
                }
                .into_any(),
                None => ().into_any(),
            }
        };
        view! {
            <p class="mapping-status" data-testid="mapping-status">
                {version.map(|v| format!("Version {v}"))}
                {dirty.then_some(" · unsaved changes")}
                " "
                {check}
            </p>
        }
    };

    view! {
        <div class="page mapping-editor">
            {header}
            {move || check_failure.get().map(|failure| view! {
                <ErrorBanner title="Could not check the mapping" failure=failure on_retry=move || check_now() />
            })}
            {move || match fields.get() {
                Some(Err(failure)) => Some(view! {
                    <ErrorBanner title="Could not read the field lists" failure=failure on_retry=move || fields.refetch() />
                }.into_any()),
                _ => None,
            }}
            <ProblemList errors=errors draft=draft />
            <div class="mapping-layout">
                <section class="card mapping-rules" aria-labelledby="rules-heading">
                    <div class="section-header">
                        <h3 id="rules-heading">"Fields"</h3>
                        {status}
                    </div>
                    {move || if draft.base.with(Option::is_none) {
                        match versions.get() {
                            Some(Ok(list)) if list.is_empty() => view! {
                                <EmptyState message="This flow has no mapping yet: it is created with the pipeline." />
                            }.into_any(),
                            _ => view! { <Loading label="Loading the mapping…" /> }.into_any(),
                        }
                    } else {
                        view! { <RuleTable draft=draft lists=field_lists errors=errors focus_field=focus_field /> }.into_any()
                    }}
                    <ValueTables draft=draft lists=field_lists errors=errors />
                    <div class="form-actions">
                        <button
                            type="button"
                            class="button primary"
                            data-testid="save-mapping"
                            disabled=move || saving.get() || !tenant.can_write.get() || !draft.dirty()
                            on:click=move |_| {
                                if let Some(config) = draft.config() {
                                    save(config, "Saved".to_string());
                                }
                            }
                        >
                            {move || if saving.get() { "Saving…" } else { "Save as new version" }}
                        </button>
                        <button
                            type="button"
                            class="button secondary"
                            data-testid="discard-mapping"
                            disabled=move || !draft.dirty()
                            on:click=move |_| {
                                loaded_for.set_value(None);
                                versions.refetch();
                            }
                        >
                            "Discard changes"
                        </button>
                        {move || (!tenant.can_write.get()).then(|| view! {
                            <span class="muted">"Your role can look at mappings but not change them."</span>
                        })}
                    </div>
                    {move || save_failure.get().map(|failure| view! {
                        <p class="banner banner-error" role="alert" data-testid="save-error">
                            {crate::api::capitalise(&failure.message())}
                        </p>
                    })}
                    {move || saved_message.get().map(|message| view! {
                        <p class="banner banner-success" role="status" data-testid="mapping-saved">{message}</p>
                    })}
                </section>
                <aside class="mapping-fields">
                    {move || match fields.get() {
                        None => view! { <Loading label="Reading the live field lists…" /> }.into_any(),
                        Some(Err(_)) => ().into_any(),
                        Some(Ok(lists)) => view! {
                            <FieldList side=lists.target.clone() role="target" draft=draft lists=field_lists />
                            <FieldList side=lists.source.clone() role="source" draft=draft lists=field_lists />
                        }.into_any(),
                    }}
                </aside>
            </div>
            <Preview draft=draft pipeline_id=id flow=flow />
            <Versions versions=versions draft=draft saving=saving on_restore=Callback::new(move |version: MappingVersion| {
                save(version.config, format!("Version {} restored", version.version));
            }) />
        </div>
    }
}

/// Every problem of the draft, each a link to its row.
#[component]
fn ProblemList(errors: Memo<Vec<ConfigError>>, draft: Draft) -> impl IntoView {
    move || {
        let list = errors.get();
        (!list.is_empty()).then(|| {
            let rows = list
                .into_iter()
                .map(|error| {
                    let key = draft.rules.with_untracked(|rules| {
                        rules
                            .iter()
                            .find(|(_, r)| belongs_to(&error.field, &r.target))
                            .map(|(k, _)| *k)
                    });
                    let message = error.message.clone();
                    match key {
                        Some(key) => view! {
                            <li><a href=format!("#rule-{key}")>{message}</a></li>
                        }
                        .into_any(),
                        None => view! { <li>{message}</li> }.into_any(),
                    }
                })
                .collect_view();
            view! {
                <div class="banner banner-warning" role="alert" data-testid="mapping-problems">
                    <p><strong>"The mapping cannot be saved until these are fixed:"</strong></p>
                    <ul>{rows}</ul>
                </div>
            }
        })
    }
}

#[component]
fn RuleTable(
    draft: Draft,
    lists: Memo<Option<MappingFields>>,
    errors: Memo<Vec<ConfigError>>,
    focus_field: Memo<Option<String>>,
) -> impl IntoView {
    let datalists = move || {
        lists.get().map(|l| {
            let options = |side: &SideFields| {
                side.fields
                    .iter()
                    .map(|f| {
                        let label = format!(
                            "{} · {}{}",
                            f.label,
                            f.field_type,
                            if f.custom { " · custom" } else { "" }
                        );
                        view! { <option value=f.name.clone() label=label></option> }
                    })
                    .collect_view()
            };
            view! {
                <datalist id="target-field-list">{options(&l.target)}</datalist>
                <datalist id="source-field-list">{options(&l.source)}</datalist>
            }
        })
    };
    view! {
        {datalists}
        <div class="table-wrap">
            <table class="mapping-table" data-testid="mapping-table">
                <thead>
                    <tr>
                        <th scope="col">{move || lists.get().map_or("Target".to_string(), |l| format!("{} field", short_system(&l.target.system)))}</th>
                        <th scope="col">{move || lists.get().map_or("Source".to_string(), |l| format!("from {}", short_system(&l.source.system)))}</th>
                        <th scope="col">"Transforms"</th>
                        <th scope="col">"Options"</th>
                        <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || draft.rules.with(|rules| rules.iter().map(|(k, _)| *k).collect::<Vec<_>>())
                        key=|key| *key
                        children=move |key| view! { <RuleRow key=key draft=draft lists=lists errors=errors focus_field=focus_field /> }
                    />
                </tbody>
            </table>
        </div>
        <AddRule draft=draft lists=lists />
    }
}

#[component]
fn RuleRow(
    key: u32,
    draft: Draft,
    lists: Memo<Option<MappingFields>>,
    errors: Memo<Vec<ConfigError>>,
    focus_field: Memo<Option<String>>,
) -> impl IntoView {
    let rule = Memo::new(move |_| draft.rule(key));
    let target = move || rule.with(|r| r.as_ref().map(|r| r.target.clone()).unwrap_or_default());
    let target_meta = Memo::new(move |_| {
        let name = target();
        lists.with(|l| l.as_ref().and_then(|l| find(&l.target, &name).cloned()))
    });
    let source_meta = Memo::new(move |_| {
        let source = rule.with(|r| r.as_ref().and_then(|r| r.source.clone()));
        let first = source.as_ref().and_then(|s| s.fields().first().cloned())?;
        lists.with(|l| l.as_ref().and_then(|l| find(&l.source, &first).cloned()))
    });
    let row_errors = Memo::new(move |_| {
        let name = target();
        errors.with(|list| {
            list.iter()
                .filter(|e| belongs_to(&e.field, &name))
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
        })
    });
    let focused = move || focus_field.get().is_some_and(|f| f == target());
    let describe = |meta: Option<FieldInfo>| {
        meta.map(|f| {
            let mut parts = vec![f.label.clone(), f.field_type.clone()];
            if f.custom {
                parts.push("custom".into());
            }
            if f.required {
                parts.push("required".into());
            }
            if f.read_only {
                parts.push("read-only".into());
            }
            parts.join(" · ")
        })
    };
    let target_id = format!("rule-{key}-target");
    let source_id = format!("rule-{key}-source");
    view! {
        <tr
            id=format!("rule-{key}")
            data-testid="mapping-rule"
            data-target=target
            class=move || {
                let mut class = String::new();
                if !row_errors.with(Vec::is_empty) {
                    class.push_str("has-error ");
                }
                if focused() {
                    class.push_str("focused");
                }
                class
            }
        >
            <td>
                <label class="visually-hidden" for=target_id.clone()>"Target field"</label>
                <input
                    id=target_id
                    class="mono"
                    list="target-field-list"
                    data-testid="rule-target"
                    prop:value=target
                    on:change=move |ev| {
                        let value = event_target_value(&ev).trim().to_string();
                        draft.update_rule(key, |r| r.target = value);
                    }
                />
                <p class="small muted" data-testid="rule-target-type">{move || describe(target_meta.get())}</p>
                {move || {
                    row_errors
                        .get()
                        .into_iter()
                        .map(|m| view! { <p class="field-error" data-testid="rule-error">{m}</p> })
                        .collect_view()
                }}
            </td>
            <td>
                <label class="visually-hidden" for=source_id.clone()>"Source field(s), comma-separated"</label>
                <input
                    id=source_id
                    class="mono"
                    list="source-field-list"
                    placeholder="none (a constant or default)"
                    data-testid="rule-source"
                    prop:value=move || rule.with(|r| r.as_ref().map(|r| source_text(&r.source)).unwrap_or_default())
                    on:change=move |ev| {
                        let source = parse_source(&event_target_value(&ev));
                        draft.update_rule(key, |r| r.source = source);
                    }
                />
                <p class="small muted">{move || describe(source_meta.get())}</p>
            </td>
            <td>
                <Transforms key=key draft=draft rule=rule source_meta=source_meta target_meta=target_meta />
                {move || rule.with(|r| r.as_ref().filter(|r| !r.items.is_empty()).map(|r| view! {
                    <p class="small muted">{format!("{} rules for each line item (kept as they are; edited through the API)", r.items.len())}</p>
                }))}
            </td>
            <td class="nowrap">
                <label class="checkbox small">
                    <input
                        type="checkbox"
                        data-testid="rule-required"
                        prop:checked=move || rule.with(|r| r.as_ref().is_some_and(|r| r.required))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            draft.update_rule(key, |r| r.required = on);
                        }
                    />
                    " Required"
                </label>
                <label class="checkbox small">
                    <input
                        type="checkbox"
                        prop:checked=move || rule.with(|r| r.as_ref().is_some_and(|r| r.clear_if_empty))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            draft.update_rule(key, |r| r.clear_if_empty = on);
                        }
                    />
                    " Clear when empty"
                </label>
            </td>
            <td>
                <button
                    type="button"
                    class="button secondary small"
                    data-testid="remove-rule"
                    aria-label=move || format!("Remove the rule for {}", target())
                    on:click=move |_| draft.remove_rule(key)
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

/// A rule's transforms, in order, each with its settings; a new one is added at the end.
#[component]
fn Transforms(
    key: u32,
    draft: Draft,
    rule: Memo<Option<FieldRule>>,
    source_meta: Memo<Option<FieldInfo>>,
    target_meta: Memo<Option<FieldInfo>>,
) -> impl IntoView {
    let kinds = move || {
        rule.with(|r| {
            r.as_ref()
                .map(|r| r.transforms.iter().map(kind_of).enumerate().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let add = move |kind: String| {
        let Some(current) = rule.get_untracked() else { return };
        let table = current.target.replace(['.', '[', ']'], "_");
        if kind == "value_table" && !draft.tables.with_untracked(|t| t.contains_key(&table)) {
            let filled = table_for(
                source_meta.get_untracked().as_ref(),
                target_meta.get_untracked().as_ref(),
            );
            draft.tables.update(|tables| {
                tables.insert(table.clone(), filled);
            });
        }
        if let Some(transform) = new_transform(&kind, &table) {
            draft.update_rule(key, |r| r.transforms.push(transform));
        }
    };
    view! {
        <ol class="transforms">
            <For
                each=kinds
                key=|(index, kind)| (*index, kind.clone())
                children=move |(index, kind)| view! { <TransformEditor key=key index=index kind=kind draft=draft rule=rule /> }
            />
        </ol>
        <label class="visually-hidden" for=format!("rule-{key}-add-transform")>"Add a transform"</label>
        <select
            id=format!("rule-{key}-add-transform")
            class="small"
            data-testid="add-transform"
            on:change=move |ev| {
                let kind = event_target_value(&ev);
                if !kind.is_empty() {
                    add(kind);
                }
                // Back to the prompt, ready for the next one.
                if let Some(select) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlSelectElement>(t).ok()) {
                    select.set_value("");
                }
            }
        >
            <option value="">"+ Add transform…"</option>
            {TRANSFORMS.iter().map(|(kind, label)| view! { <option value=*kind>{*label}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn TransformEditor(key: u32, index: usize, kind: String, draft: Draft, rule: Memo<Option<FieldRule>>) -> impl IntoView {
    let transform = Memo::new(move |_| rule.with(|r| r.as_ref().and_then(|r| r.transforms.get(index).cloned())));
    let error = RwSignal::new(None::<String>);
    let set = move |name: &'static str, label: &'static str, input: Input, raw: String| {
        let Some(current) = transform.get_untracked() else {
            return;
        };
        match with_setting(&current, name, label, input, &raw) {
            Ok(changed) => {
                error.set(None);
                draft.update_rule(key, |r| {
                    if let Some(slot) = r.transforms.get_mut(index) {
                        *slot = changed;
                    }
                });
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let settings = settings_of(&kind)
        .iter()
        .map(|&(name, label, input)| {
            let value = move || transform.with(|t| t.as_ref().map(|t| setting_text(t, name)).unwrap_or_default());
            let id = format!("rule-{key}-t{index}-{name}");
            let control = match input {
                Input::Choice(options) => view! {
                    <select id=id.clone() class="small" on:change=move |ev| set(name, label, input, event_target_value(&ev))>
                        {options.iter().map(|o| view! {
                            <option value=*o selected=move || value() == *o>{if o.is_empty() { "the mapping's" } else { *o }}</option>
                        }).collect_view()}
                    </select>
                }
                .into_any(),
                Input::Check => view! {
                    <input id=id.clone() type="checkbox" prop:checked=move || value() == "true"
                        on:change=move |ev| set(name, label, input, event_target_checked(&ev).to_string()) />
                }
                .into_any(),
                Input::Table => view! {
                    <select id=id.clone() class="small" on:change=move |ev| set(name, label, input, event_target_value(&ev))>
                        // Each option says whether it is the one: the list is drawn after the select.
                        {move || draft.tables.with(|t| t.keys().cloned().collect::<Vec<_>>()).into_iter().map(|n| {
                            let this = n.clone();
                            view! { <option value=n.clone() selected=move || value() == this>{n.clone()}</option> }
                        }).collect_view()}
                    </select>
                }
                .into_any(),
                Input::Text { .. } | Input::Number => view! {
                    <input id=id.clone() class="small" type=if matches!(input, Input::Number) { "number" } else { "text" }
                        prop:value=value on:change=move |ev| set(name, label, input, event_target_value(&ev)) />
                }
                .into_any(),
            };
            view! {
                <span class="transform-setting">
                    <label class="small" for=id>{label}</label>
                    {control}
                </span>
            }
        })
        .collect_view();
    let title = transform_label(&kind);
    view! {
        <li class="transform" data-testid="transform" data-kind=kind.clone()>
            <span class="transform-name">{title}</span>
            {settings}
            <button
                type="button"
                class="link-button small"
                data-testid="remove-transform"
                aria-label=format!("Remove the {title} transform")
                on:click=move |_| draft.update_rule(key, |r| {
                    if index < r.transforms.len() {
                        r.transforms.remove(index);
                    }
                })
            >
                "×"
            </button>
            {move || error.get().map(|m| view! { <p class="field-error small">{m}</p> })}
        </li>
    }
}

/// Adds a rule for a target field not mapped yet.
#[component]
fn AddRule(draft: Draft, lists: Memo<Option<MappingFields>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let add = move || {
        let wanted = name.get_untracked().trim().to_string();
        if wanted.is_empty() {
            error.set(Some("Target field: choose one of the fields listed".into()));
            return;
        }
        if draft
            .rules
            .with_untracked(|rules| rules.iter().any(|(_, r)| r.target == wanted))
        {
            error.set(Some(format!("Target field: {wanted} already has a rule")));
            return;
        }
        let rule = lists.with_untracked(|l| {
            l.as_ref()
                .and_then(|l| find(&l.target, &wanted).map(|f| rule_for(f, Some(&l.source))))
        });
        draft.add_rule(rule.unwrap_or(FieldRule {
            target: wanted,
            source: None,
            transforms: Vec::new(),
            required: false,
            clear_if_empty: false,
            items: Vec::new(),
        }));
        name.set(String::new());
        error.set(None);
    };
    view! {
        <form class="inline-form add-rule" on:submit=move |ev| { ev.prevent_default(); add(); }>
            <label for="add-rule-target">"Map another field"</label>
            <input
                id="add-rule-target"
                class="mono"
                list="target-field-list"
                data-testid="add-rule-target"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <button type="submit" class="button secondary small" data-testid="add-rule">"Add rule"</button>
            {move || error.get().map(|m| view! { <p class="field-error">{m}</p> })}
        </form>
    }
}

/// One side's live fields, searchable, with what each is and whether a rule writes it.
#[component]
fn FieldList(side: SideFields, role: &'static str, draft: Draft, lists: Memo<Option<MappingFields>>) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let heading = if role == "target" {
        format!("{} fields (written)", side.system)
    } else {
        format!("{} fields (read)", side.system)
    };
    let total = side.fields.len();
    let all = StoredValue::new(side.fields);
    let shown = move || {
        let q = search.get().to_lowercase();
        all.with_value(|fields| {
            fields
                .iter()
                .filter(|f| q.is_empty() || f.name.to_lowercase().contains(&q) || f.label.to_lowercase().contains(&q))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let search_id = format!("{role}-field-search");
    view! {
        <section class="card field-list" data-testid=format!("{role}-fields")>
            <h3>{heading}</h3>
            <label class="visually-hidden" for=search_id.clone()>"Search fields"</label>
            <input
                id=search_id
                type="search"
                placeholder=format!("Search {total} fields")
                data-testid="field-search"
                prop:value=move || search.get()
                on:input=move |ev| search.set(event_target_value(&ev))
            />
            <ul class="field-items">
                {move || {
                    let fields = shown();
                    if fields.is_empty() {
                        return view! { <li class="muted">"No field matches: try part of its name or label."</li> }.into_any();
                    }
                    fields.into_iter().map(|f| {
                        let name = f.name.clone();
                        let mapped = {
                            let name = name.clone();
                            move || draft.rules.with(|rules| rules.iter().any(|(_, r)| {
                                if role == "target" { r.target == name } else {
                                    r.source.as_ref().is_some_and(|s| s.fields().contains(&name))
                                }
                            }))
                        };
                        let add = {
                            let f = f.clone();
                            move |_| {
                                let source = lists.with_untracked(|l| l.as_ref().map(|l| l.source.clone()));
                                draft.add_rule(rule_for(&f, source.as_ref()));
                            }
                        };
                        let can_add = role == "target" && !f.read_only;
                        let options = (!f.options.is_empty()).then(|| {
                            let count = f.options.len();
                            view! {
                                <details>
                                    <summary class="small">{format!("{count} values")}</summary>
                                    <ul class="small">
                                        {f.options.iter().map(|o| view! {
                                            <li><code>{o.value.clone()}</code> " " {o.label.clone()} {(!o.active).then_some(" (inactive)")}</li>
                                        }).collect_view()}
                                    </ul>
                                </details>
                            }
                        });
                        view! {
                            <li data-testid="field-item" data-name=name.clone()>
                                <div class="field-item-head">
                                    <code>{name.clone()}</code>
                                    <span class="badge">{f.field_type.clone()}</span>
                                    {f.custom.then(|| view! { <span class="badge custom" data-testid="custom-badge">"custom"</span> })}
                                    {f.required.then(|| view! { <span class="badge">"required"</span> })}
                                    {f.read_only.then(|| view! { <span class="badge">"read-only"</span> })}
                                    {
                                        let mapped_now = mapped.clone();
                                        move || if mapped_now() {
                                            view! { <span class="badge status-active">"mapped"</span> }.into_any()
                                        } else if can_add {
                                            let add = add.clone();
                                            view! {
                                                <button type="button" class="link-button small" data-testid="map-field" on:click=add>"Map"</button>
                                            }.into_any()
                                        } else {
                                            ().into_any()
                                        }
                                    }
                                </div>
                                <span class="small muted">{f.label.clone()}</span>
                                {options}
                            </li>
                        }.into_any()
                    }).collect_view().into_any()
                }}
            </ul>
        </section>
    }
}

/// The mapping's value tables. A table whose values come from a picklist lists each of its
/// values, to be mapped onto one target value (several onto one); other values are typed.
#[component]
fn ValueTables(draft: Draft, lists: Memo<Option<MappingFields>>, errors: Memo<Vec<ConfigError>>) -> impl IntoView {
    view! {
        <div class="value-tables">
            <For
                each=move || draft.tables.with(|t| t.keys().cloned().collect::<Vec<_>>())
                key=|name| name.clone()
                children=move |name| view! { <ValueTableEditor name=name draft=draft lists=lists errors=errors /> }
            />
        </div>
    }
}

#[component]
fn ValueTableEditor(
    name: String,
    draft: Draft,
    lists: Memo<Option<MappingFields>>,
    errors: Memo<Vec<ConfigError>>,
) -> impl IntoView {
    let table_name = StoredValue::new(name.clone());
    let table = Memo::new(move |_| draft.tables.with(|t| t.get(&table_name.get_value()).cloned()));
    // The picklists on either side of the first rule that uses the table.
    let sides = Memo::new(move |_| {
        let name = table_name.get_value();
        let rule = draft.rules.with(|rules| {
            rules
                .iter()
                .map(|(_, r)| r)
                .find(|r| {
                    r.transforms
                        .iter()
                        .any(|t| matches!(t, Transform::ValueTable { table } if *table == name))
                })
                .cloned()
        })?;
        let lists = lists.get()?;
        let source = rule
            .source
            .as_ref()
            .and_then(|s| s.fields().first().cloned())
            .and_then(|f| find(&lists.source, &f).cloned());
        let target = find(&lists.target, &rule.target).cloned();
        Some((rule.target.clone(), source, target))
    });
    let source_options = move || {
        sides.with(|s| {
            s.as_ref()
                .and_then(|(_, source, _)| source.as_ref())
                .map(|f| f.options.clone())
                .unwrap_or_default()
        })
    };
    let target_options = move || {
        sides.with(|s| {
            s.as_ref()
                .and_then(|(_, _, target)| target.as_ref())
                .map(|f| f.options.clone())
                .unwrap_or_default()
        })
    };
    let table_errors = move || {
        let prefix = format!("value_tables.{}", table_name.get_value());
        errors.with(|list| {
            list.iter()
                .filter(|e| belongs_to(&e.field, &prefix))
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
        })
    };
    // A target value: one of the target picklist's options, or typed.
    let to_control = move |id: String, current: String, on_pick: Callback<String>| {
        let options = target_options();
        if options.is_empty() {
            view! {
                <input id=id class="small mono" prop:value=current on:change=move |ev| on_pick.run(event_target_value(&ev)) />
            }
            .into_any()
        } else {
            let known = options.iter().any(|o| o.value == current) || current.is_empty();
            view! {
                <select id=id class="small" on:change=move |ev| on_pick.run(event_target_value(&ev))>
                    <option value="" selected=current.is_empty()>"— not mapped —"</option>
                    {(!known).then(|| view! { <option value=current.clone() selected=true>{format!("{current} (not an option)")}</option> })}
                    {options.into_iter().map(|o| {
                        let selected = o.value == current;
                        view! { <option value=o.value.clone() selected=selected>{format!("{} ({})", o.label, o.value)}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
    };
    let picklist_rows = move || {
        let options = source_options();
        let current = table.get().unwrap_or_default();
        options
            .into_iter()
            .enumerate()
            .map(|(i, option)| {
                let value = option.value.clone();
                let pick = Callback::new(move |to: String| {
                    let name = table_name.get_value();
                    draft.update_table(&name, |t| set_mapping(t, &value, &to));
                });
                let id = format!("vt-{}-{i}", table_name.get_value());
                view! {
                    <tr data-testid="value-row" data-from=option.value.clone()>
                        <td>
                            <label for=id.clone()>
                                <code>{option.value.clone()}</code>
                                " "
                                <span class="muted small">{option.label.clone()}{(!option.active).then_some(" (inactive)")}</span>
                            </label>
                        </td>
                        <td>{to_control(id, mapped_to(&current, &option.value), pick)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    // Entries for values the source does not list (or every entry, when it has no picklist).
    let typed_rows = move || {
        let listed: Vec<String> = source_options().into_iter().map(|o| o.value).collect();
        let current = table.get().unwrap_or_default();
        current
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| listed.is_empty() || e.from.iter().any(|f| !listed.contains(f)))
            .map(|(index, entry)| {
                let from = entry
                    .from
                    .iter()
                    .filter(|f| !listed.contains(f))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                let set_from = move |ev: leptos::ev::Event| {
                    let values: Vec<String> = event_target_value(&ev)
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                        .collect();
                    let name = table_name.get_value();
                    let listed = source_options().into_iter().map(|o| o.value).collect::<Vec<_>>();
                    draft.update_table(&name, |t| {
                        if let Some(entry) = t.entries.get_mut(index) {
                            entry.from.retain(|f| listed.contains(f));
                            entry.from.extend(values);
                        }
                        t.entries.retain(|e| !e.from.is_empty() || e.to.is_empty());
                    });
                };
                let pick = Callback::new(move |to: String| {
                    let name = table_name.get_value();
                    draft.update_table(&name, |t| {
                        if let Some(entry) = t.entries.get_mut(index) {
                            entry.to = to;
                        }
                    });
                });
                let remove = move |_| {
                    let name = table_name.get_value();
                    draft.update_table(&name, |t| {
                        if index < t.entries.len() {
                            t.entries.remove(index);
                        }
                    });
                };
                let id = format!("vt-{}-typed-{index}", table_name.get_value());
                view! {
                    <tr data-testid="value-entry">
                        <td>
                            <label class="visually-hidden" for=format!("{id}-from")>"Values, comma-separated"</label>
                            <input id=format!("{id}-from") class="small mono" placeholder="new, open" prop:value=from on:change=set_from />
                        </td>
                        <td>{to_control(id, entry.to.clone(), pick)}</td>
                        <td><button type="button" class="link-button small" on:click=remove>"Remove"</button></td>
                    </tr>
                }
            })
            .collect_view()
    };
    let add_entry = move |_| {
        let name = table_name.get_value();
        draft.update_table(&name, |t| {
            t.entries.push(ValueTableEntry {
                from: Vec::new(),
                to: String::new(),
            })
        });
    };
    let default_id = format!("vt-{name}-default");
    view! {
        <section class="card value-table" data-testid="value-table" data-name=name.clone() aria-label=format!("Value table {name}")>
            <h4>
                "Value table "
                <code>{name.clone()}</code>
                {move || sides.with(|s| s.as_ref().map(|(target, _, _)| format!(" · for {target}")))}
            </h4>
            {move || (!source_options().is_empty()).then(|| view! {
                <p class="small muted">"Each value the source offers, and what it becomes; several can become the same value."</p>
                <table class="value-rows"><tbody>{picklist_rows}</tbody></table>
            })}
            <table class="value-rows">
                <tbody>{typed_rows}</tbody>
            </table>
            <button type="button" class="button secondary small" data-testid="add-value-entry" on:click=add_entry>
                {move || if source_options().is_empty() { "Add values" } else { "Add other values" }}
            </button>
            <div class="field inline-field">
                <label for=default_id.clone()>"Any other value becomes"</label>
                {move || {
                    let current = table.get().and_then(|t| t.default).unwrap_or_default();
                    let pick = Callback::new(move |to: String| {
                        let name = table_name.get_value();
                        draft.update_table(&name, |t| t.default = (!to.is_empty()).then_some(to));
                    });
                    to_control(default_id.clone(), current, pick)
                }}
                <span class="small muted">"(left empty, such a record fails and shows in Failed records)"</span>
            </div>
            {move || table_errors().into_iter().map(|m| view! { <p class="field-error" data-testid="table-error">{m}</p> }).collect_view()}
        </section>
    }
}

/// The unsaved mapping applied to a real recent record (or one named by id).
#[component]
fn Preview(draft: Draft, pipeline_id: Memo<PipelineId>, flow: Memo<String>) -> impl IntoView {
    let tenant = use_tenant();
    let record_id = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<PreviewResult, ApiFailure>>);
    // A preview belongs to the flow it was made for.
    Effect::new(move |_| {
        flow.track();
        result.set(None);
    });
    let run = move || {
        let Some(config) = draft.config() else { return };
        let id = record_id.get_untracked().trim().to_string();
        let request = PreviewMappingRequest {
            config,
            record_id: (!id.is_empty()).then_some(id),
        };
        let (tenant_id, pipeline_id, flow) = (
            tenant.id.get_untracked(),
            pipeline_id.get_untracked(),
            flow.get_untracked(),
        );
        busy.set(true);
        spawn_local(async move {
            let outcome = api::sync::preview_mapping(tenant_id, pipeline_id, &flow, &request).await;
            // Nothing to show on a page that was left.
            if result.try_set(Some(outcome)).is_none() {
                busy.set(false);
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="preview-heading">
            <h3 id="preview-heading">"Preview"</h3>
            <p class="muted">"Applies the mapping as it is now, saved or not, to a real record: the most recently changed one, or the one you name."</p>
            <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label for="preview-record">"Record id (optional)"</label>
                <input id="preview-record" class="mono" data-testid="preview-record" prop:value=move || record_id.get()
                    on:input=move |ev| record_id.set(event_target_value(&ev)) />
                <button type="submit" class="button secondary" data-testid="preview-mapping" disabled=move || busy.get()>
                    {move || if busy.get() { "Previewing…" } else { "Preview" }}
                </button>
            </form>
            {move || result.get().map(|outcome| match outcome {
                Err(failure) => view! { <ErrorBanner title="Could not preview the mapping" failure=failure /> }.into_any(),
                Ok(preview) => view! {
                    <div class="preview-pair" data-testid="preview-result">
                        <div>
                            <h4>"Before"</h4>
                            <pre data-testid="preview-before">{pretty(&preview.source)}</pre>
                        </div>
                        <div>
                            <h4>"After"</h4>
                            {match preview.target {
                                Some(target) => view! { <pre data-testid="preview-after">{pretty(&target)}</pre> }.into_any(),
                                None => view! {
                                    <ul class="field-errors" data-testid="preview-errors">
                                        {preview.errors.into_iter().map(|e| view! {
                                            <li class="field-error"><code>{e.field.clone()}</code> ": " {e.message.clone()}</li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                            }}
                        </div>
                    </div>
                }.into_any(),
            })}
        </section>
    }
}

/// Every saved version, newest first: view one, or restore it as a new version.
#[component]
fn Versions(
    versions: LocalResource<Result<Vec<MappingVersion>, ApiFailure>>,
    draft: Draft,
    saving: RwSignal<bool>,
    on_restore: Callback<MappingVersion>,
) -> impl IntoView {
    let tenant = use_tenant();
    let open = RwSignal::new(None::<i64>);
    view! {
        <section class="card" aria-labelledby="versions-heading">
            <h3 id="versions-heading">"Versions"</h3>
            {move || match versions.get() {
                None => view! { <Loading label="Loading versions…" /> }.into_any(),
                Some(Err(failure)) => view! {
                    <ErrorBanner title="Could not load the versions" failure=failure on_retry=move || versions.refetch() />
                }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <EmptyState message="No version saved yet." /> }.into_any(),
                Some(Ok(list)) => {
                    let in_force = list.first().map(|v| v.version);
                    view! {
                        <div class="table-wrap">
                            <table data-testid="versions-table">
                                <thead><tr>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Saved"</th>
                                    <th scope="col">"By"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|version| {
                                        let number = version.version;
                                        let config = serde_json::to_value(&version.config).unwrap_or_default();
                                        let restorable = version.clone();
                                        view! {
                                            <tr data-testid="version-row" data-version=number.to_string()>
                                                <td>{format!("v{number}")}{(Some(number) == in_force).then_some(" (in force)")}</td>
                                                <td title=format_time(&version.created_at)>{relative_time(&version.created_at, &browser_now())}</td>
                                                <td>{version.created_by.clone().unwrap_or_else(|| "—".into())}</td>
                                                <td class="nowrap">
                                                    <button type="button" class="button secondary small" data-testid="view-version"
                                                        aria-expanded=move || (open.get() == Some(number)).to_string()
                                                        on:click=move |_| open.update(|o| *o = if *o == Some(number) { None } else { Some(number) })>
                                                        {move || if open.get() == Some(number) { "Hide" } else { "View" }}
                                                    </button>
                                                    {(Some(number) != in_force).then(|| view! {
                                                        <button type="button" class="button secondary small" data-testid="restore-version"
                                                            disabled=move || saving.get() || !tenant.can_write.get()
                                                            on:click=move |_| on_restore.run(restorable.clone())>
                                                            "Restore"
                                                        </button>
                                                    })}
                                                </td>
                                            </tr>
                                            {move || (open.get() == Some(number)).then(|| view! {
                                                <tr><td colspan="4"><pre data-testid="version-config">{pretty(&config)}</pre></td></tr>
                                            })}
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {move || draft.dirty().then(|| view! {
                            <p class="small muted">"Restoring replaces your unsaved changes."</p>
                        })}
                    }.into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use tandem_shared::api::mappings::FieldOption;

    use super::*;

    fn picklist(name: &str, values: &[&str]) -> FieldInfo {
        FieldInfo {
            name: name.into(),
            label: name.into(),
            field_type: "picklist".into(),
            required: false,
            read_only: false,
            custom: false,
            options: values
                .iter()
                .map(|v| FieldOption {
                    value: v.to_string(),
                    label: v.to_uppercase(),
                    active: true,
                })
                .collect(),
        }
    }

    #[test]
    fn errors_belong_to_the_rule_of_their_field() {
        assert!(belongs_to("email", "email"));
        assert!(belongs_to("line_items[].price", "line_items"));
        assert!(belongs_to("address.city", "address"));
        assert!(!belongs_to("email_confirmed", "email"));
    }

    #[test]
    fn sources_are_one_field_several_or_none() {
        assert_eq!(parse_source(" email "), Some(Source::Field("email".into())));
        assert_eq!(
            parse_source("first_name, last_name,"),
            Some(Source::Fields(vec!["first_name".into(), "last_name".into()]))
        );
        assert_eq!(parse_source(" , "), None);
        assert_eq!(source_text(&parse_source("a, b")), "a, b");
    }

    #[test]
    fn a_value_goes_to_one_target_and_entries_group_by_target() {
        let mut table = ValueTable::default();
        set_mapping(&mut table, "customer", "customer");
        set_mapping(&mut table, "evangelist", "customer");
        set_mapping(&mut table, "lead", "lead");
        assert_eq!(table.entries.len(), 2);
        assert_eq!(mapped_to(&table, "evangelist"), "customer");
        // Moved to another target: out of its old entry, which goes when empty.
        set_mapping(&mut table, "lead", "customer");
        assert_eq!(table.entries.len(), 1);
        assert_eq!(table.entries[0].from, ["customer", "evangelist", "lead"]);
        set_mapping(&mut table, "lead", "");
        assert_eq!(mapped_to(&table, "lead"), "");
    }

    #[test]
    fn a_new_table_pairs_picklist_values_of_the_same_name() {
        let source = picklist("stage", &["lead", "customer", "other"]);
        let target = picklist("status", &["Lead", "customer"]);
        let table = table_for(Some(&source), Some(&target));
        assert_eq!(mapped_to(&table, "lead"), "Lead");
        assert_eq!(mapped_to(&table, "customer"), "customer");
        assert_eq!(mapped_to(&table, "other"), "");
        assert!(table.case_insensitive);
    }

    #[test]
    fn settings_change_one_key_and_bad_ones_name_the_setting() {
        let truncate = new_transform("truncate", "").unwrap();
        let shorter = with_setting(&truncate, "max_chars", "Max characters", Input::Number, "40").unwrap();
        assert_eq!(shorter, Transform::Truncate { max_chars: 40 });
        let error = with_setting(&truncate, "max_chars", "Max characters", Input::Number, "forty").unwrap_err();
        assert!(error.starts_with("Max characters:"), "{error}");
        // An optional setting left empty is left out; a kept one stays even when empty.
        let phone = new_transform("phone_e164", "").unwrap();
        let de = with_setting(
            &phone,
            "default_region",
            "Region",
            Input::Text { keep_empty: false },
            "DE",
        )
        .unwrap();
        assert_eq!(setting_text(&de, "default_region"), "DE");
        let cleared = with_setting(&de, "default_region", "Region", Input::Text { keep_empty: false }, " ").unwrap();
        assert_eq!(cleared, Transform::PhoneE164 { default_region: None });
        let join = new_transform("join", "").unwrap();
        let glued = with_setting(&join, "separator", "Separator", Input::Text { keep_empty: true }, "").unwrap();
        assert_eq!(
            glued,
            Transform::Join {
                separator: String::new()
            }
        );
        assert_eq!(
            new_transform("value_table", "stages"),
            Some(Transform::ValueTable { table: "stages".into() })
        );
        assert!(TRANSFORMS.iter().all(|(kind, _)| new_transform(kind, "t").is_some()));
    }
}
