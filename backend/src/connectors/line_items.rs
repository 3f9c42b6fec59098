//! Replacing deals' line items as a set, for CRMs that keep them as records of their own linked
//! to a product found by its number (HubSpot by SKU, Salesforce by product code). The CRM calls
//! are each connector's; the bookkeeping between them is this: which deals an unknown product
//! refuses, which new item belongs to which deal, and what to delete once the creates answered —
//! the new items of a deal that failed (it keeps its old ones), the old items of the others.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{ConnectorError, DEAL_LINE_ITEMS, Fields, WriteResults};

/// One result per deal, in order.
pub type DealResults = Vec<Result<(), ConnectorError>>;

/// The product numbers the deals' items carry in `number_field` (those `linked` already says
/// are linked left out), once each, for one lookup.
pub fn product_numbers(
    deals: &[(String, Vec<Fields>)],
    number_field: &str,
    linked: impl Fn(&Fields) -> bool,
) -> Vec<String> {
    let numbers: BTreeSet<String> = deals
        .iter()
        .flat_map(|(_, items)| items.iter())
        .filter(|item| !linked(item))
        .filter_map(|item| item.get(number_field).and_then(Value::as_str).map(str::to_string))
        .collect();
    numbers.into_iter().collect()
}

/// The new line items to create, each with the index of its deal.
pub struct Replacement<T> {
    pub results: DealResults,
    pub inputs: Vec<T>,
    owners: Vec<usize>,
}

impl<T> Replacement<T> {
    /// Builds each deal's new items with `build(deal_id, item, product_id)`; an item whose
    /// number `products` lacks refuses its deal, naming `line_items[i].<number_field>`.
    pub fn plan(
        deals: &[(String, Vec<Fields>)],
        number_field: &str,
        crm: &str,
        products: &BTreeMap<String, String>,
        linked: impl Fn(&Fields) -> bool,
        build: impl Fn(&str, &Fields, Option<&String>) -> T,
    ) -> Replacement<T> {
        let mut plan = Replacement {
            results: Vec::with_capacity(deals.len()),
            inputs: Vec::new(),
            owners: Vec::new(),
        };
        for (d, (deal_id, items)) in deals.iter().enumerate() {
            let prepared: Result<Vec<T>, ConnectorError> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let number = item.get(number_field).and_then(Value::as_str).filter(|_| !linked(item));
                    let product = match number {
                        None => None,
                        Some(number) => Some(products.get(number).ok_or_else(|| ConnectorError::Validation {
                            field: Some(format!("{DEAL_LINE_ITEMS}[{i}].{number_field}")),
                            code: "UNKNOWN_PRODUCT".into(),
                            message: format!("no {crm} product has the {number_field} {number:?}"),
                        })?),
                    };
                    Ok(build(deal_id, item, product))
                })
                .collect();
            match prepared {
                Ok(prepared) => {
                    plan.owners.extend(std::iter::repeat_n(d, prepared.len()));
                    plan.inputs.extend(prepared);
                    plan.results.push(Ok(()));
                }
                Err(error) => plan.results.push(Err(error)),
            }
        }
        plan
    }

    /// The deals whose new items can be written (no unknown product).
    pub fn writable<'a>(&self, deals: &'a [(String, Vec<Fields>)]) -> Vec<&'a str> {
        deals
            .iter()
            .zip(&self.results)
            .filter(|(_, result)| result.is_ok())
            .map(|((id, _), _)| id.as_str())
            .collect()
    }

    /// Takes the creates' results (one per input, in order) and each deal's old items; returns
    /// the deals' results and the line items to delete.
    pub fn settle(
        mut self,
        created: WriteResults,
        deals: &[(String, Vec<Fields>)],
        old_items: impl Fn(&str) -> Vec<String>,
    ) -> (DealResults, Vec<String>) {
        let mut made: Vec<(usize, String)> = Vec::with_capacity(created.len());
        for (result, &d) in created.into_iter().zip(&self.owners) {
            match result {
                Ok(item) => made.push((d, item.id)),
                Err(error) if self.results[d].is_ok() => self.results[d] = Err(in_line_items(error)),
                Err(_) => {}
            }
        }
        let mut delete: Vec<String> = made
            .into_iter()
            .filter(|(d, _)| self.results[*d].is_err())
            .map(|(_, id)| id)
            .collect();
        for ((deal_id, _), result) in deals.iter().zip(&self.results) {
            if result.is_ok() {
                delete.extend(old_items(deal_id));
            }
        }
        (self.results, delete)
    }
}

/// A line item's own refusal, as the deal's: its field under `line_items[]`.
fn in_line_items(error: ConnectorError) -> ConnectorError {
    match error {
        ConnectorError::Validation { field, code, message } => ConnectorError::Validation {
            field: field.map(|f| format!("{DEAL_LINE_ITEMS}[].{f}")),
            code,
            message,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::connectors::Written;

    fn item(number: &str) -> Fields {
        Fields::from([("sku".to_string(), json!(number))])
    }

    #[test]
    fn an_unknown_product_refuses_its_deal_and_a_failed_create_keeps_the_old_items() {
        let deals = vec![
            ("d1".to_string(), vec![item("A"), item("B")]),
            ("d2".to_string(), vec![item("A"), item("Z")]),
            ("d3".to_string(), vec![item("B")]),
        ];
        assert_eq!(product_numbers(&deals, "sku", |_| false), ["A", "B", "Z"]);
        let products = BTreeMap::from([
            ("A".to_string(), "p-a".to_string()),
            ("B".to_string(), "p-b".to_string()),
        ]);
        let plan = Replacement::plan(
            &deals,
            "sku",
            "Test",
            &products,
            |_| false,
            |deal, _, product| format!("{deal}:{}", product.unwrap()),
        );
        assert_eq!(plan.inputs, ["d1:p-a", "d1:p-b", "d3:p-b"]);
        assert_eq!(plan.writable(&deals), ["d1", "d3"]);
        let refused = plan.results[1].clone().unwrap_err();
        assert!(matches!(&refused, ConnectorError::Validation { field: Some(f), .. } if f == "line_items[1].sku"));

        // d3's create is refused: its new item (none made) goes, its old ones stay; d1's old go.
        let written = |id: &str| {
            Ok(Written {
                id: id.into(),
                created: true,
            })
        };
        let created = vec![
            written("n1"),
            written("n2"),
            Err(ConnectorError::Validation {
                field: Some("price".into()),
                code: "X".into(),
                message: "m".into(),
            }),
        ];
        let (results, delete) = plan.settle(created, &deals, |deal| vec![format!("old-{deal}")]);
        assert!(results[0].is_ok());
        assert!(
            matches!(&results[2], Err(ConnectorError::Validation { field: Some(f), .. }) if f == "line_items[].price")
        );
        assert_eq!(delete, ["old-d1"]);
    }
}
