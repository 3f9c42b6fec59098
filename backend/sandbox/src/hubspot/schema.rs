//! Metadata: `/crm/v3/properties/{object}` (list, get, create, update and archive custom
//! properties),
//! `/crm/v3/pipelines/{object}` and `/crm/v3/owners`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::HubSpot;
use super::errors::HsError;
use super::gate::{AuthedAccount, object_type, parse_body};
use super::model::{ModificationMetadata, ObjectType, Property, PropertyOption, PropertyType};
use super::objects::{created, ok};
use crate::clock::iso;

pub async fn list_properties(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HsError> {
    let object = object_type(&path.1)?;
    let properties = hubspot.with_account(&authed.key, |account| {
        account.properties.get(&object).cloned().unwrap_or_default()
    });
    Ok(ok(json!({ "results": properties })))
}

pub async fn get_property(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, object, name) = path.into_inner();
    let object = object_type(&object)?;
    let property = hubspot.with_account(&authed.key, |account| account.property(object, &name).cloned());
    match property {
        Some(property) => Ok(ok(serde_json::to_value(property).unwrap_or_default())),
        None => Err(HsError::new(
            404,
            "OBJECT_NOT_FOUND",
            format!("Unable to find property {name} for {}", object.name()),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewProperty {
    name: String,
    label: String,
    #[serde(rename = "type")]
    property_type: String,
    field_type: String,
    #[serde(default)]
    group_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    options: Vec<NewOption>,
    #[serde(default)]
    has_unique_value: bool,
    #[serde(default)]
    hidden: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewOption {
    label: String,
    value: String,
    #[serde(default)]
    display_order: Option<i32>,
    #[serde(default)]
    hidden: bool,
}

/// Creates a custom property (Tandem creates its unique sync key this way).
pub async fn create_property(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    let object = object_type(&path.1)?;
    let input: NewProperty = parse_body(&body)?;
    let property_type = match input.property_type.as_str() {
        "string" => PropertyType::String,
        "number" => PropertyType::Number,
        "date" => PropertyType::Date,
        "datetime" => PropertyType::Datetime,
        "enumeration" => PropertyType::Enumeration,
        "bool" => PropertyType::Bool,
        other => {
            return Err(HsError::bad_request(format!("{other} is not a valid property type")));
        }
    };
    let name_ok = !input.name.is_empty()
        && input.name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && input
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(HsError::bad_request(format!(
            "Property name {:?} must start with a lower-case letter and contain only lower-case letters, digits and _",
            input.name
        )));
    }
    if property_type == PropertyType::Enumeration && input.options.is_empty() {
        return Err(HsError::bad_request("Enumeration properties need options"));
    }
    hubspot.with_account(&authed.key, |account| {
        if account.property(object, &input.name).is_some() {
            return Err(HsError::conflict(format!(
                "Property named '{}' already exists.",
                input.name
            )));
        }
        let now = Utc::now();
        let property = Property {
            name: input.name.clone(),
            label: input.label,
            property_type,
            field_type: input.field_type,
            group_name: input
                .group_name
                .unwrap_or_else(|| format!("{}information", object.singular())),
            description: input.description.unwrap_or_default(),
            options: input
                .options
                .into_iter()
                .enumerate()
                .map(|(i, o)| PropertyOption {
                    label: o.label,
                    value: o.value,
                    display_order: o.display_order.unwrap_or(i as i32),
                    hidden: o.hidden,
                })
                .collect(),
            display_order: -1,
            has_unique_value: input.has_unique_value,
            hidden: input.hidden,
            form_field: true,
            hubspot_defined: false,
            calculated: false,
            modification_metadata: ModificationMetadata {
                archivable: true,
                read_only_definition: false,
                read_only_value: false,
            },
            created_at: now,
            updated_at: now,
        };
        let json = serde_json::to_value(&property).unwrap_or_default();
        let unique = property.has_unique_value.then(|| property.name.clone());
        account.properties.entry(object).or_default().push(property);
        if let Some(name) = unique {
            account.index_property(object, &name);
        }
        Ok(created(json))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyChange {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    options: Option<Vec<NewOption>>,
    #[serde(default)]
    hidden: Option<bool>,
}

/// `PATCH /crm/v3/properties/{object}/{name}`: a property's label, description, visibility or
/// options (the options given replace the old ones, as in HubSpot). HubSpot's own properties
/// keep their definition.
pub async fn update_property(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    let (_, object, name) = path.into_inner();
    let object = object_type(&object)?;
    let change: PropertyChange = parse_body(&body)?;
    hubspot.with_account(&authed.key, |account| {
        let property = account
            .properties
            .get_mut(&object)
            .and_then(|list| list.iter_mut().find(|p| p.name == name))
            .ok_or_else(|| {
                HsError::new(
                    404,
                    "OBJECT_NOT_FOUND",
                    format!("Unable to find property {name} for {}", object.name()),
                )
            })?;
        if property.modification_metadata.read_only_definition {
            return Err(HsError::bad_request(format!(
                "{name} is a HubSpot-defined property and cannot be changed"
            )));
        }
        if let Some(options) = change.options {
            if property.property_type == PropertyType::Enumeration && options.is_empty() {
                return Err(HsError::bad_request("Enumeration properties need options"));
            }
            property.options = options
                .into_iter()
                .enumerate()
                .map(|(i, o)| PropertyOption {
                    label: o.label,
                    value: o.value,
                    display_order: o.display_order.unwrap_or(i as i32),
                    hidden: o.hidden,
                })
                .collect();
        }
        if let Some(label) = change.label {
            property.label = label;
        }
        if let Some(description) = change.description {
            property.description = description;
        }
        if let Some(hidden) = change.hidden {
            property.hidden = hidden;
        }
        property.updated_at = Utc::now();
        Ok(ok(serde_json::to_value(&*property).unwrap_or_default()))
    })
}

/// `DELETE /crm/v3/properties/{object}/{name}`: archives a custom property; records keep no
/// value for it that can be read or written.
pub async fn archive_property(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, object, name) = path.into_inner();
    let object = object_type(&object)?;
    hubspot.with_account(&authed.key, |account| {
        let list = account.properties.entry(object).or_default();
        let Some(index) = list.iter().position(|p| p.name == name) else {
            return Err(HsError::new(
                404,
                "OBJECT_NOT_FOUND",
                format!("Unable to find property {name} for {}", object.name()),
            ));
        };
        if !list[index].modification_metadata.archivable {
            return Err(HsError::bad_request(format!("{name} cannot be archived")));
        }
        list.remove(index);
        Ok(HttpResponse::NoContent().finish())
    })
}

pub async fn list_pipelines(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HsError> {
    let object = object_type(&path.1)?;
    let pipelines = hubspot.with_account(&authed.key, |account| {
        if object == ObjectType::Deals {
            account.pipelines.clone()
        } else {
            Vec::new()
        }
    });
    let now = iso(Utc::now());
    let results: Vec<Value> = pipelines.iter().map(|p| pipeline_json(p, &now)).collect();
    Ok(ok(json!({ "results": results })))
}

pub async fn get_pipeline(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, object, id) = path.into_inner();
    let object = object_type(&object)?;
    let pipeline = hubspot.with_account(&authed.key, |account| {
        account
            .pipelines
            .iter()
            .find(|p| object == ObjectType::Deals && p.id == id)
            .cloned()
    });
    match pipeline {
        Some(pipeline) => Ok(ok(pipeline_json(&pipeline, &iso(Utc::now())))),
        None => Err(HsError::new(
            404,
            "OBJECT_NOT_FOUND",
            format!("Unable to find pipeline {id}"),
        )),
    }
}

fn pipeline_json(pipeline: &super::model::Pipeline, now: &str) -> Value {
    let mut json = serde_json::to_value(pipeline).unwrap_or_default();
    json["createdAt"] = json!(now);
    json["updatedAt"] = json!(now);
    if let Some(stages) = json["stages"].as_array_mut() {
        for stage in stages {
            stage["createdAt"] = json!(now);
            stage["updatedAt"] = json!(now);
        }
    }
    json
}

pub async fn owners(hubspot: web::Data<HubSpot>, authed: AuthedAccount) -> HttpResponse {
    let domain = hubspot.with_account(&authed.key, |account| account.domain.clone());
    let now = iso(Utc::now());
    let results: Vec<Value> = super::seed::owners()
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            json!({
                "id": id,
                "email": format!("{}@{domain}", first.to_lowercase()),
                "firstName": first,
                "lastName": last,
                "userId": 9_000_001 + i,
                "createdAt": now,
                "updatedAt": now,
                "archived": false,
            })
        })
        .collect();
    ok(json!({ "results": results }))
}
