//! A mapping compiled for repeated use: paths parsed, transforms resolved, value tables indexed,
//! and (when the target's metadata is known) a check per target field.

use std::collections::BTreeMap;

use serde_json::Value;
use tandem_shared::api::mappings::{FieldRule, MappingConfig};

use super::guard::Guard;
use super::path::FieldPath;
use super::transforms::{Step, Tables, compile_tables};
use crate::connectors::ObjectMeta;

/// A [`MappingConfig`] ready to apply to many records. Building one never fails: a broken rule
/// (an unknown value table, say) fails each record with `invalid_mapping` on that field, and
/// [`super::validate`] explains it when the mapping is saved.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub(super) rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
pub(super) enum Rule {
    Ready(Box<ReadyRule>),
    Broken { field: String, reason: String },
}

#[derive(Clone, Debug)]
pub(super) struct ReadyRule {
    pub target: FieldPath,
    pub source: RuleSource,
    pub steps: Vec<Step>,
    pub required: bool,
    pub clear_if_empty: bool,
    /// For a list rule, the rules of each element.
    pub items: Option<Vec<Rule>>,
    pub guard: Option<Guard>,
}

#[derive(Clone, Debug)]
pub(super) enum RuleSource {
    None,
    One(FieldPath),
    Many(Vec<FieldPath>),
}

impl RuleSource {
    /// The source value: one field's value, or a list of several fields' values.
    pub fn read(&self, record: &Value) -> Value {
        match self {
            RuleSource::None => Value::Null,
            RuleSource::One(path) => path.get(record).cloned().unwrap_or(Value::Null),
            RuleSource::Many(paths) => Value::Array(
                paths
                    .iter()
                    .map(|p| p.get(record).cloned().unwrap_or(Value::Null))
                    .collect(),
            ),
        }
    }

    /// The source fields, each after `prefix` (a list element's path), for error reports.
    pub fn describe(&self, prefix: &str) -> Option<String> {
        match self {
            RuleSource::None => None,
            RuleSource::One(path) => Some(format!("{prefix}{}", path.as_str())),
            RuleSource::Many(paths) => Some(
                paths
                    .iter()
                    .map(|p| format!("{prefix}{}", p.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }
}

impl Mapping {
    /// Compiles `config` without knowledge of the target's fields.
    pub fn new(config: &MappingConfig) -> Mapping {
        Self::build(config, None, None)
    }

    /// Compiles `config` and adds, for every top-level target field `target` describes, a check of
    /// what that field takes: email syntax (the mapping's `email_rules`), picklist options,
    /// numbers, booleans, dates. Values the CRM would reject then fail before any call.
    pub fn with_target(config: &MappingConfig, target: &ObjectMeta) -> Mapping {
        Self::build(config, Some(target), None)
    }

    /// [`Mapping::with_target`], and the same checks for the elements of list rules, with the
    /// metadata of the object each list writes, by the list rule's target (`line_items` → the
    /// CRM's line item object).
    pub fn with_targets(config: &MappingConfig, target: &ObjectMeta, lists: &BTreeMap<String, ObjectMeta>) -> Mapping {
        Self::build(config, Some(target), Some(lists))
    }

    fn build(
        config: &MappingConfig,
        target: Option<&ObjectMeta>,
        lists: Option<&BTreeMap<String, ObjectMeta>>,
    ) -> Mapping {
        let tables = compile_tables(config);
        let context = Context {
            config,
            tables: &tables,
            lists,
        };
        Mapping {
            rules: config
                .fields
                .iter()
                .map(|rule| context.rule(rule, target, true))
                .collect(),
        }
    }

    /// The top-level target fields this mapping writes: what a content hash covers.
    pub fn target_fields(&self) -> Vec<&str> {
        self.rules
            .iter()
            .filter_map(|rule| match rule {
                Rule::Ready(ready) => Some(ready.target.root()),
                Rule::Broken { .. } => None,
            })
            .collect()
    }

    /// The source fields the element rules of the list rule reading `list` read (`line_items` →
    /// `hs_sku`, `quantity`…): what to ask a CRM for about each element.
    pub fn list_source_fields(&self, list: &str) -> Vec<&str> {
        let mut fields: Vec<&str> = self
            .rules
            .iter()
            .filter_map(|rule| match rule {
                Rule::Ready(ready) => Some(ready),
                Rule::Broken { .. } => None,
            })
            .filter(|rule| matches!(&rule.source, RuleSource::One(path) if path.root() == list))
            .flat_map(|rule| rule.items.iter().flatten())
            .filter_map(|item| match item {
                Rule::Ready(ready) => Some(ready),
                Rule::Broken { .. } => None,
            })
            .flat_map(|item| match &item.source {
                RuleSource::None => Vec::new(),
                RuleSource::One(path) => vec![path.root()],
                RuleSource::Many(paths) => paths.iter().map(FieldPath::root).collect(),
            })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        fields
    }

    /// The top-level source fields this mapping reads: what to ask a CRM for.
    pub fn source_fields(&self) -> Vec<&str> {
        let mut fields: Vec<&str> = self
            .rules
            .iter()
            .filter_map(|rule| match rule {
                Rule::Ready(ready) => Some(ready),
                Rule::Broken { .. } => None,
            })
            .flat_map(|rule| match &rule.source {
                RuleSource::None => Vec::new(),
                RuleSource::One(path) => vec![path.root()],
                RuleSource::Many(paths) => paths.iter().map(FieldPath::root).collect(),
            })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        fields
    }
}

struct Context<'a> {
    config: &'a MappingConfig,
    tables: &'a Tables,
    lists: Option<&'a BTreeMap<String, ObjectMeta>>,
}

impl Context<'_> {
    /// `target` describes the object the rule writes into; `top` says whether that is the record
    /// itself rather than a list's element.
    fn rule(&self, rule: &FieldRule, target: Option<&ObjectMeta>, top: bool) -> Rule {
        match self.ready(rule, target, top) {
            Ok(ready) => Rule::Ready(Box::new(ready)),
            Err(reason) => Rule::Broken {
                field: rule.target.clone(),
                reason,
            },
        }
    }

    fn ready(&self, rule: &FieldRule, target: Option<&ObjectMeta>, top: bool) -> Result<ReadyRule, String> {
        let target_path = FieldPath::target(&rule.target)?;
        let source = match rule.source.as_ref().map(|s| s.fields()) {
            None | Some([]) => RuleSource::None,
            Some([one]) => RuleSource::One(FieldPath::source(one)?),
            Some(many) => RuleSource::Many(many.iter().map(|f| FieldPath::source(f)).collect::<Result<_, _>>()?),
        };
        let steps = rule
            .transforms
            .iter()
            .map(|t| Step::compile(t, self.config, self.tables).map_err(|e| e.reason))
            .collect::<Result<Vec<_>, _>>()?;
        let items = if rule.items.is_empty() {
            None
        } else {
            if !matches!(source, RuleSource::One(_)) {
                return Err("a list rule reads exactly one source field".to_string());
            }
            // Element fields belong to another object (line items), described separately if at all.
            let elements = self.lists.filter(|_| top).and_then(|lists| lists.get(&rule.target));
            Some(rule.items.iter().map(|item| self.rule(item, elements, false)).collect())
        };
        let guard = match (target, &items, target_path.is_nested()) {
            (Some(meta), None, false) => meta
                .field(target_path.root())
                .and_then(|field| Guard::for_field(field, self.config.email_rules)),
            _ => None,
        };
        Ok(ReadyRule {
            target: target_path,
            source,
            steps,
            required: rule.required,
            clear_if_empty: rule.clear_if_empty,
            items,
            guard,
        })
    }
}
