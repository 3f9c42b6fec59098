//! Applies a compiled mapping to one record, collecting every field's error rather than stopping
//! at the first.

use serde_json::{Map, Value};
use tandem_shared::api::mappings::{FieldError, FieldErrorCode, PreviewResult};

use super::rules::{Mapping, ReadyRule, Rule};
use super::transforms::Fail;
use super::value::{is_empty, show};

/// Where the rules being applied sit: at the top (`""`) or inside a list element
/// (`line_items[2].`), on the target and the source side.
struct Prefix {
    target: String,
    source: String,
}

impl Prefix {
    fn root() -> Prefix {
        Prefix {
            target: String::new(),
            source: String::new(),
        }
    }
}

impl Mapping {
    /// The target record, or every field error (each naming the target field, the source field and
    /// the reason).
    pub fn apply(&self, source: &Value) -> Result<Value, Vec<FieldError>> {
        let mut target = Map::new();
        let mut errors = Vec::new();
        apply_rules(&self.rules, source, &Prefix::root(), &mut target, &mut errors);
        if errors.is_empty() {
            Ok(Value::Object(target))
        } else {
            Err(errors)
        }
    }

    /// [`Mapping::apply`] for the mapping editor: the record, and the result or the errors.
    pub fn preview(&self, source: &Value) -> PreviewResult {
        let (target, errors) = match self.apply(source) {
            Ok(target) => (Some(target), Vec::new()),
            Err(errors) => (None, errors),
        };
        PreviewResult {
            source: source.clone(),
            target,
            errors,
        }
    }
}

fn apply_rules(
    rules: &[Rule],
    source: &Value,
    prefix: &Prefix,
    target: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    for rule in rules {
        match rule {
            Rule::Ready(rule) => apply_rule(rule, source, prefix, target, errors),
            Rule::Broken { field, reason } => errors.push(FieldError {
                field: format!("{}{field}", prefix.target),
                source_field: None,
                code: FieldErrorCode::InvalidMapping,
                message: format!("{}{field}: the mapping is broken: {reason}", prefix.target),
            }),
        }
    }
}

fn apply_rule(
    rule: &ReadyRule,
    source: &Value,
    prefix: &Prefix,
    target: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    let report = |errors: &mut Vec<FieldError>, fail: Fail| errors.push(field_error(rule, prefix, fail));
    let mut value = rule.source.read(source);
    for step in &rule.steps {
        match step.run(value) {
            Ok(next) => value = next,
            Err(fail) => return report(errors, fail),
        }
    }
    if is_empty(&value) {
        if rule.required {
            let reason = match rule.source.describe(&prefix.source) {
                Some(fields) => format!("required, but {fields} is empty"),
                None => "required, but empty".to_string(),
            };
            report(errors, Fail::new(FieldErrorCode::MissingRequired, reason));
        } else if rule.clear_if_empty {
            rule.target.set(target, Value::Null);
        }
        return;
    }
    let checked = match (&rule.items, &rule.guard) {
        (Some(items), _) => apply_list(rule, items, value, prefix, errors),
        (None, Some(guard)) => guard.check(value).map_err(|fail| report(errors, fail)).ok(),
        (None, None) => Some(value),
    };
    if let Some(value) = checked {
        rule.target.set(target, value);
    }
}

/// Maps each element of a list through the element rules; `None` when any element failed.
fn apply_list(
    rule: &ReadyRule,
    items: &[Rule],
    value: Value,
    prefix: &Prefix,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let Value::Array(elements) = value else {
        let fail = Fail::new(FieldErrorCode::NotAList, format!("{} is not a list", show(&value)));
        errors.push(field_error(rule, prefix, fail));
        return None;
    };
    let source_name = rule.source.describe("").unwrap_or_default();
    let before = errors.len();
    let mut mapped = Vec::with_capacity(elements.len());
    for (index, element) in elements.iter().enumerate() {
        let inner = Prefix {
            target: format!("{}{}[{index}].", prefix.target, rule.target.as_str()),
            source: format!("{}{source_name}[{index}].", prefix.source),
        };
        if !element.is_object() {
            let field = inner.target.trim_end_matches('.').to_string();
            errors.push(FieldError {
                message: format!("{field}: {} is not an object", show(element)),
                field,
                source_field: Some(inner.source.trim_end_matches('.').to_string()),
                code: FieldErrorCode::NotAnObject,
            });
            continue;
        }
        let mut object = Map::new();
        apply_rules(items, element, &inner, &mut object, errors);
        mapped.push(Value::Object(object));
    }
    (errors.len() == before).then_some(Value::Array(mapped))
}

fn field_error(rule: &ReadyRule, prefix: &Prefix, fail: Fail) -> FieldError {
    let field = format!("{}{}", prefix.target, rule.target.as_str());
    FieldError {
        message: format!("{field}: {}", fail.reason),
        field,
        source_field: rule.source.describe(&prefix.source),
        code: fail.code,
    }
}
