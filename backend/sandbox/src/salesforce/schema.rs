//! The objects an emulated org has and their fields, as describe calls report them: standard
//! fields with Salesforce's names, types, lengths and picklists, plus a few custom (`__c`) fields
//! as real orgs have, including an External ID field on every writable object.
//!
//! The schema is the same for every org (there is no Metadata API here), so it is built once.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SObject {
    Account,
    Contact,
    Opportunity,
    OpportunityLineItem,
    Product2,
    Pricebook2,
    PricebookEntry,
    Event,
    User,
    Task,
}

impl SObject {
    pub const ALL: [SObject; 10] = [
        SObject::Account,
        SObject::Contact,
        SObject::Opportunity,
        SObject::OpportunityLineItem,
        SObject::Product2,
        SObject::Pricebook2,
        SObject::PricebookEntry,
        SObject::Event,
        SObject::User,
        SObject::Task,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SObject::Account => "Account",
            SObject::Contact => "Contact",
            SObject::Opportunity => "Opportunity",
            SObject::OpportunityLineItem => "OpportunityLineItem",
            SObject::Product2 => "Product2",
            SObject::Pricebook2 => "Pricebook2",
            SObject::PricebookEntry => "PricebookEntry",
            SObject::Event => "Event",
            SObject::User => "User",
            SObject::Task => "Task",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The first three characters of every id of this object.
    pub fn key_prefix(self) -> &'static str {
        match self {
            SObject::Account => "001",
            SObject::Contact => "003",
            SObject::Opportunity => "006",
            SObject::OpportunityLineItem => "00k",
            SObject::Product2 => "01t",
            SObject::Pricebook2 => "01s",
            SObject::PricebookEntry => "01u",
            SObject::Event => "00U",
            SObject::User => "005",
            SObject::Task => "00T",
        }
    }

    /// Object names are case-insensitive in paths and SOQL.
    pub fn parse(name: &str) -> Option<SObject> {
        SObject::ALL.into_iter().find(|o| o.name().eq_ignore_ascii_case(name))
    }

    pub fn from_prefix(prefix: &str) -> Option<SObject> {
        SObject::ALL.into_iter().find(|o| o.key_prefix() == prefix)
    }

    pub fn def(self) -> &'static ObjectDef {
        &definitions()[self.index()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Id,
    String,
    TextArea,
    Email,
    Phone,
    Url,
    Picklist,
    Combobox,
    Reference,
    Double,
    Currency,
    Percent,
    Int,
    Boolean,
    Date,
    DateTime,
}

impl FieldType {
    /// As describe spells it (`type`).
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::TextArea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Combobox => "combobox",
            FieldType::Reference => "reference",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Int => "int",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
        }
    }

    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Int => "xsd:int",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Date => "xsd:date",
            FieldType::DateTime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }

    /// Values are text (compared case-insensitively, filtered with LIKE).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::TextArea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Combobox
        )
    }

    pub fn is_id(self) -> bool {
        matches!(self, FieldType::Id | FieldType::Reference)
    }

    pub fn is_number(self) -> bool {
        matches!(
            self,
            FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Int
        )
    }
}

type Options = &'static [(&'static str, &'static str)];

#[derive(Clone, Debug)]
pub struct FieldDef {
    pub name: &'static str,
    pub label: &'static str,
    pub ftype: FieldType,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub unique: bool,
    pub external_id: bool,
    pub custom: bool,
    /// Computed by the org (formula, roll-up, system field): never writable.
    pub calculated: bool,
    /// The org fills it in when a create leaves it out (owner, checkbox, currency, …).
    pub defaulted_on_create: bool,
    pub picklist: Options,
    pub restricted: bool,
    pub default_value: Option<&'static str>,
    pub reference_to: &'static [SObject],
    pub relationship_name: Option<&'static str>,
    /// The parent's name for its children through this field (`Contacts` on Account).
    pub child_relationship: Option<&'static str>,
    pub name_field: bool,
}

impl FieldDef {
    /// A create must set it.
    pub fn required(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create
    }

    pub fn filterable(&self) -> bool {
        self.ftype != FieldType::TextArea || self.length <= 255
    }

    pub fn sortable(&self) -> bool {
        self.filterable()
    }

    fn precision(&self) -> (u32, u32) {
        match self.ftype {
            FieldType::Currency => (18, 2),
            FieldType::Percent => (3, 0),
            FieldType::Double => (18, 2),
            _ => (0, 0),
        }
    }

    /// `fields[]` of a describe.
    pub fn describe(&self) -> Value {
        let (precision, scale) = self.precision();
        let text_length = if self.ftype.is_text() || self.ftype.is_id() {
            self.length
        } else {
            0
        };
        let picklist: Vec<Value> = self
            .picklist
            .iter()
            .map(|(value, label)| {
                json!({
                    "active": true,
                    "defaultValue": self.default_value == Some(*value),
                    "label": label,
                    "validFor": null,
                    "value": value,
                })
            })
            .collect();
        // Checkboxes report their default here; picklists mark theirs in `picklistValues`.
        let default_value = match self.ftype {
            FieldType::Boolean => json!(self.default_value == Some("true")),
            _ => Value::Null,
        };
        let mut describe = json!({
            "aggregatable": self.ftype != FieldType::TextArea,
            "autoNumber": false,
            "byteLength": text_length * 3,
            "calculated": self.calculated && self.custom,
            "calculatedFormula": null,
            "cascadeDelete": false,
            "caseSensitive": false,
            "compoundFieldName": null,
            "controllerName": null,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": default_value,
            "defaultValueFormula": null,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": false,
            "deprecatedAndHidden": false,
            "digits": if self.ftype == FieldType::Int { 9 } else { 0 },
            "displayLocationInDecimal": false,
            "encrypted": false,
            "externalId": self.external_id,
            "extraTypeInfo": null,
            "filterable": self.filterable(),
            "filteredLookupInfo": null,
            "groupable": !matches!(self.ftype, FieldType::TextArea | FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::DateTime),
        });
        let rest = json!({
            "highScaleNumber": false,
            "htmlFormatted": false,
            "idLookup": self.ftype == FieldType::Id || self.external_id || self.ftype == FieldType::Email,
            "inlineHelpText": null,
            "label": self.label,
            "length": text_length,
            "mask": null,
            "maskType": null,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": self.reference_to.len() > 1,
            "nillable": self.nillable,
            "permissionable": self.nillable && !self.calculated,
            "picklistValues": picklist,
            "polymorphicForeignKey": self.reference_to.len() > 1,
            "precision": precision,
            "queryByDistance": false,
            "referenceTargetField": null,
            "referenceTo": self.reference_to.iter().map(|o| o.name()).collect::<Vec<_>>(),
            "relationshipName": self.relationship_name,
            "relationshipOrder": null,
            "restrictedDelete": false,
            "restrictedPicklist": self.restricted,
            "scale": scale,
            "searchPrefilterable": false,
            "soapType": self.ftype.soap_type(),
            "sortable": self.sortable(),
            "type": self.ftype.name(),
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": false,
        });
        if let (Value::Object(map), Value::Object(rest)) = (&mut describe, rest) {
            map.extend(rest);
        }
        describe
    }
}

pub struct ObjectDef {
    pub sobject: SObject,
    pub label: &'static str,
    pub label_plural: &'static str,
    pub fields: Vec<FieldDef>,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    by_name: HashMap<String, u16>,
}

impl ObjectDef {
    /// A field by name, case-insensitively, with its index.
    pub fn field(&self, name: &str) -> Option<(u16, &FieldDef)> {
        let index = *self.by_name.get(&name.to_ascii_lowercase())?;
        Some((index, &self.fields[index as usize]))
    }

    /// The index of a field this module defines (panics in tests only if the schema is wrong).
    pub fn idx(&self, name: &str) -> u16 {
        self.field(name).map_or(u16::MAX, |(i, _)| i)
    }

    pub fn get(&self, index: u16) -> Option<&FieldDef> {
        self.fields.get(index as usize)
    }

    /// The parent relationship (`Account` for `AccountId`), case-insensitively.
    pub fn relationship(&self, name: &str) -> Option<(u16, &FieldDef)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.relationship_name.is_some_and(|r| r.eq_ignore_ascii_case(name)))
            .map(|(i, f)| (i as u16, f))
    }

    pub fn urls(&self, version: &str) -> Value {
        let base = format!("/services/data/v{version}/sobjects/{}", self.sobject.name());
        json!({
            "compactLayouts": format!("{base}/describe/compactLayouts"),
            "rowTemplate": format!("{base}/{{ID}}"),
            "approvalLayouts": format!("{base}/describe/approvalLayouts"),
            "defaultValues": format!("{base}/defaultValues?recordTypeId&fields"),
            "listviews": format!("{base}/listviews"),
            "describe": format!("{base}/describe"),
            "quickActions": format!("{base}/quickActions"),
            "layouts": format!("{base}/describe/layouts"),
            "sobject": base,
        })
    }

    /// One entry of describeGlobal's `sobjects`.
    pub fn summary(&self, version: &str) -> Value {
        json!({
            "activateable": false,
            "createable": self.createable,
            "custom": false,
            "customSetting": false,
            "deepCloneable": false,
            "deletable": self.deletable,
            "deprecatedAndHidden": false,
            "feedEnabled": false,
            "hasSubtypes": false,
            "isInterface": false,
            "isSubtype": false,
            "keyPrefix": self.sobject.key_prefix(),
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": true,
            "mergeable": matches!(self.sobject, SObject::Account | SObject::Contact),
            "mruEnabled": true,
            "name": self.sobject.name(),
            "queryable": true,
            "replicateable": true,
            "retrieveable": true,
            "searchable": true,
            "triggerable": true,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": self.urls(version),
        })
    }

    /// `GET /sobjects/{Type}/describe`.
    pub fn describe(&self, version: &str) -> Value {
        let mut body = self.summary(version);
        let children: Vec<Value> = SObject::ALL
            .iter()
            .flat_map(|child| {
                child.def().fields.iter().filter_map(move |f| {
                    let name = f.child_relationship?;
                    f.reference_to.contains(&self.sobject).then(|| {
                        json!({
                            "cascadeDelete": cascades(*child, self.sobject),
                            "childSObject": child.name(),
                            "deprecatedAndHidden": false,
                            "field": f.name,
                            "junctionIdListNames": [],
                            "junctionReferenceTo": [],
                            "relationshipName": name,
                            "restrictedDelete": false,
                        })
                    })
                })
            })
            .collect();
        body["fields"] = Value::Array(self.fields.iter().map(FieldDef::describe).collect());
        body["childRelationships"] = Value::Array(children);
        body["recordTypeInfos"] = json!([{
            "active": true,
            "available": true,
            "defaultRecordTypeMapping": true,
            "developerName": "Master",
            "master": true,
            "name": "Master",
            "recordTypeId": "012000000000000AAA",
            "urls": { "layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/012000000000000AAA", self.sobject.name()) },
        }]);
        body["actionOverrides"] = json!([]);
        body["compactLayoutable"] = json!(true);
        body["listviewable"] = Value::Null;
        body["lookupLayoutable"] = Value::Null;
        body["namedLayoutInfos"] = json!([]);
        body["networkScopeFieldName"] = Value::Null;
        body["searchLayoutable"] = json!(true);
        body["supportedScopes"] = json!([{ "label": "All", "name": "everything" }]);
        body["sobjectDescribeOption"] = json!("FULL");
        body
    }
}

/// Deleting the parent deletes these children too.
pub fn cascades(child: SObject, parent: SObject) -> bool {
    matches!(
        (child, parent),
        (SObject::Contact, SObject::Account)
            | (SObject::Opportunity, SObject::Account)
            | (SObject::OpportunityLineItem, SObject::Opportunity)
    )
}

// ---- picklists ----

pub const CURRENCIES: Options = &[
    ("EUR", "Euro"),
    ("USD", "U.S. Dollar"),
    ("GBP", "British Pound"),
    ("CHF", "Swiss Franc"),
    ("SEK", "Swedish Krona"),
];
const INDUSTRIES: Options = &[
    ("Agriculture", "Agriculture"),
    ("Apparel", "Apparel"),
    ("Banking", "Banking"),
    ("Biotechnology", "Biotechnology"),
    ("Chemicals", "Chemicals"),
    ("Communications", "Communications"),
    ("Construction", "Construction"),
    ("Consulting", "Consulting"),
    ("Education", "Education"),
    ("Electronics", "Electronics"),
    ("Energy", "Energy"),
    ("Engineering", "Engineering"),
    ("Entertainment", "Entertainment"),
    ("Environmental", "Environmental"),
    ("Finance", "Finance"),
    ("Food & Beverage", "Food & Beverage"),
    ("Government", "Government"),
    ("Healthcare", "Healthcare"),
    ("Hospitality", "Hospitality"),
    ("Insurance", "Insurance"),
    ("Machinery", "Machinery"),
    ("Manufacturing", "Manufacturing"),
    ("Media", "Media"),
    ("Not For Profit", "Not For Profit"),
    ("Recreation", "Recreation"),
    ("Retail", "Retail"),
    ("Shipping", "Shipping"),
    ("Technology", "Technology"),
    ("Telecommunications", "Telecommunications"),
    ("Transportation", "Transportation"),
    ("Utilities", "Utilities"),
    ("Other", "Other"),
];
const ACCOUNT_TYPES: Options = &[
    ("Prospect", "Prospect"),
    ("Customer - Direct", "Customer - Direct"),
    ("Customer - Channel", "Customer - Channel"),
    ("Channel Partner / Reseller", "Channel Partner / Reseller"),
    ("Installation Partner", "Installation Partner"),
    ("Technology Partner", "Technology Partner"),
    ("Other", "Other"),
];
const LEAD_SOURCES: Options = &[
    ("Web", "Web"),
    ("Phone Inquiry", "Phone Inquiry"),
    ("Partner Referral", "Partner Referral"),
    ("Purchased List", "Purchased List"),
    ("Other", "Other"),
];
const SALUTATIONS: Options = &[
    ("Mr.", "Mr."),
    ("Ms.", "Ms."),
    ("Mrs.", "Mrs."),
    ("Dr.", "Dr."),
    ("Prof.", "Prof."),
];
const TIERS: Options = &[("Gold", "Gold"), ("Silver", "Silver"), ("Bronze", "Bronze")];
/// Opportunity stages with their default probability and forecast category.
pub const STAGES: &[(&str, u32, &str)] = &[
    ("Prospecting", 10, "Pipeline"),
    ("Qualification", 10, "Pipeline"),
    ("Needs Analysis", 20, "Pipeline"),
    ("Value Proposition", 50, "Pipeline"),
    ("Id. Decision Makers", 60, "Pipeline"),
    ("Perception Analysis", 70, "Pipeline"),
    ("Proposal/Price Quote", 75, "Pipeline"),
    ("Negotiation/Review", 90, "Pipeline"),
    ("Closed Won", 100, "Closed"),
    ("Closed Lost", 0, "Omitted"),
];
const STAGE_OPTIONS: Options = &[
    ("Prospecting", "Prospecting"),
    ("Qualification", "Qualification"),
    ("Needs Analysis", "Needs Analysis"),
    ("Value Proposition", "Value Proposition"),
    ("Id. Decision Makers", "Id. Decision Makers"),
    ("Perception Analysis", "Perception Analysis"),
    ("Proposal/Price Quote", "Proposal/Price Quote"),
    ("Negotiation/Review", "Negotiation/Review"),
    ("Closed Won", "Closed Won"),
    ("Closed Lost", "Closed Lost"),
];
const FORECAST: Options = &[
    ("Omitted", "Omitted"),
    ("Pipeline", "Pipeline"),
    ("BestCase", "Best Case"),
    ("Commit", "Commit"),
    ("Closed", "Closed"),
];
const OPPORTUNITY_TYPES: Options = &[
    ("Existing Customer - Upgrade", "Existing Customer - Upgrade"),
    ("Existing Customer - Replacement", "Existing Customer - Replacement"),
    ("Existing Customer - Downgrade", "Existing Customer - Downgrade"),
    ("New Customer", "New Customer"),
];
const FAMILIES: Options = &[
    ("Hardware", "Hardware"),
    ("Software", "Software"),
    ("Services", "Services"),
];
const SUBJECTS: Options = &[
    ("Call", "Call"),
    ("Email", "Email"),
    ("Meeting", "Meeting"),
    ("Send Letter/Quote", "Send Letter/Quote"),
    ("Other", "Other"),
];
const TASK_SUBTYPES: Options = &[
    ("Task", "Task"),
    ("Email", "Email"),
    ("ListEmail", "List Email"),
    ("Cadence", "Cadence"),
    ("Call", "Call"),
];
const TASK_STATUSES: Options = &[
    ("Not Started", "Not Started"),
    ("In Progress", "In Progress"),
    ("Completed", "Completed"),
];
const CALL_TYPES: Options = &[
    ("Internal", "Internal"),
    ("Inbound", "Inbound"),
    ("Outbound", "Outbound"),
];
const SHOW_AS: Options = &[("Busy", "Busy"), ("OutOfOffice", "Out of Office"), ("Free", "Free")];

// ---- field builders ----

const fn field(name: &'static str, label: &'static str, ftype: FieldType, length: u32) -> FieldDef {
    FieldDef {
        name,
        label,
        ftype,
        length,
        nillable: true,
        createable: true,
        updateable: true,
        unique: false,
        external_id: false,
        custom: false,
        calculated: false,
        defaulted_on_create: false,
        picklist: &[],
        restricted: false,
        default_value: None,
        reference_to: &[],
        relationship_name: None,
        child_relationship: None,
        name_field: false,
    }
}

const fn text(name: &'static str, label: &'static str, length: u32) -> FieldDef {
    field(name, label, FieldType::String, length)
}

const fn area(name: &'static str, label: &'static str, length: u32) -> FieldDef {
    field(name, label, FieldType::TextArea, length)
}

const fn number(name: &'static str, label: &'static str, ftype: FieldType) -> FieldDef {
    field(name, label, ftype, 0)
}

const fn picklist(name: &'static str, label: &'static str, options: Options) -> FieldDef {
    FieldDef {
        picklist: options,
        ..field(name, label, FieldType::Picklist, 255)
    }
}

const fn restricted(def: FieldDef) -> FieldDef {
    FieldDef {
        restricted: true,
        ..def
    }
}

const fn required(def: FieldDef) -> FieldDef {
    FieldDef { nillable: false, ..def }
}

const fn checkbox(name: &'static str, label: &'static str, default: &'static str) -> FieldDef {
    FieldDef {
        nillable: false,
        defaulted_on_create: true,
        default_value: Some(default),
        ..field(name, label, FieldType::Boolean, 0)
    }
}

const fn lookup(
    name: &'static str,
    label: &'static str,
    to: &'static [SObject],
    relationship: &'static str,
    children: Option<&'static str>,
) -> FieldDef {
    FieldDef {
        reference_to: to,
        relationship_name: Some(relationship),
        child_relationship: children,
        ..field(name, label, FieldType::Reference, 18)
    }
}

/// Set by the org, never by a request.
const fn system(def: FieldDef) -> FieldDef {
    FieldDef {
        createable: false,
        updateable: false,
        calculated: true,
        ..def
    }
}

/// Set on create, fixed afterwards.
const fn create_only(def: FieldDef) -> FieldDef {
    FieldDef {
        updateable: false,
        ..def
    }
}

const fn custom(def: FieldDef) -> FieldDef {
    FieldDef { custom: true, ..def }
}

/// A custom External ID field; `unique` ones are what upserts are usually keyed on.
const fn external_id(name: &'static str, label: &'static str, length: u32, unique: bool) -> FieldDef {
    FieldDef {
        external_id: true,
        unique,
        custom: true,
        ..text(name, label, length)
    }
}

const fn name_field(def: FieldDef) -> FieldDef {
    FieldDef {
        name_field: true,
        ..def
    }
}

const fn currency_code() -> FieldDef {
    FieldDef {
        nillable: false,
        defaulted_on_create: true,
        default_value: Some("EUR"),
        restricted: true,
        picklist: CURRENCIES,
        ..field("CurrencyIsoCode", "Currency ISO Code", FieldType::Picklist, 3)
    }
}

const fn owner() -> FieldDef {
    FieldDef {
        nillable: false,
        defaulted_on_create: true,
        ..lookup("OwnerId", "Owner ID", &[SObject::User], "Owner", None)
    }
}

fn id_field(object: SObject) -> FieldDef {
    let label = match object {
        SObject::Account => "Account ID",
        SObject::Contact => "Contact ID",
        SObject::Opportunity => "Opportunity ID",
        SObject::OpportunityLineItem => "Line Item ID",
        SObject::Product2 => "Product ID",
        SObject::Pricebook2 => "Price Book ID",
        SObject::PricebookEntry => "Price Book Entry ID",
        SObject::Event => "Activity ID",
        SObject::User => "User ID",
        SObject::Task => "Activity ID",
    };
    FieldDef {
        nillable: false,
        defaulted_on_create: true,
        ..system(field("Id", label, FieldType::Id, 18))
    }
}

fn audit_fields() -> Vec<FieldDef> {
    let by = |name, label, relationship| FieldDef {
        nillable: false,
        defaulted_on_create: true,
        ..system(lookup(name, label, &[SObject::User], relationship, None))
    };
    let stamp = |name, label| FieldDef {
        nillable: false,
        defaulted_on_create: true,
        ..system(field(name, label, FieldType::DateTime, 0))
    };
    vec![
        FieldDef {
            defaulted_on_create: true,
            ..system(checkbox("IsDeleted", "Deleted", "false"))
        },
        stamp("CreatedDate", "Created Date"),
        by("CreatedById", "Created By ID", "CreatedBy"),
        stamp("LastModifiedDate", "Last Modified Date"),
        by("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
        stamp("SystemModstamp", "System Modstamp"),
    ]
}

fn fields(object: SObject) -> Vec<FieldDef> {
    use FieldType::*;
    let mut fields = vec![id_field(object)];
    let specific = match object {
        SObject::Account => vec![
            name_field(required(text("Name", "Account Name", 255))),
            picklist("Type", "Account Type", ACCOUNT_TYPES),
            picklist("Industry", "Industry", INDUSTRIES),
            field("Phone", "Account Phone", Phone, 40),
            field("Fax", "Account Fax", Phone, 40),
            field("Website", "Website", Url, 255),
            area("BillingStreet", "Billing Street", 255),
            text("BillingCity", "Billing City", 40),
            text("BillingPostalCode", "Billing Zip/Postal Code", 20),
            text("BillingCountry", "Billing Country", 80),
            text("ShippingCity", "Shipping City", 40),
            text("ShippingCountry", "Shipping Country", 80),
            number("NumberOfEmployees", "Employees", Int),
            number("AnnualRevenue", "Annual Revenue", Currency),
            area("Description", "Account Description", 32000),
            owner(),
            currency_code(),
            custom(text("VAT_Id__c", "VAT ID", 20)),
            custom(restricted(picklist("Customer_Tier__c", "Customer Tier", TIERS))),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
        ],
        SObject::Contact => vec![
            picklist("Salutation", "Salutation", SALUTATIONS),
            text("FirstName", "First Name", 40),
            required(text("LastName", "Last Name", 80)),
            name_field(system(text("Name", "Full Name", 121))),
            field("Email", "Email", Email, 80),
            field("Phone", "Business Phone", Phone, 40),
            field("MobilePhone", "Mobile Phone", Phone, 40),
            text("Title", "Title", 128),
            text("Department", "Department", 80),
            lookup(
                "AccountId",
                "Account ID",
                &[SObject::Account],
                "Account",
                Some("Contacts"),
            ),
            area("MailingStreet", "Mailing Street", 255),
            text("MailingCity", "Mailing City", 40),
            text("MailingPostalCode", "Mailing Zip/Postal Code", 20),
            text("MailingCountry", "Mailing Country", 80),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES),
            field("Birthdate", "Birthdate", Date, 0),
            checkbox("HasOptedOutOfEmail", "Email Opt Out", "false"),
            area("Description", "Contact Description", 32000),
            owner(),
            currency_code(),
            custom(checkbox("Newsletter_Opt_In__c", "Newsletter Opt-In", "false")),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
            // Not unique: an upsert on it can match several contacts (HTTP 300).
            external_id("Legacy_Id__c", "Legacy CRM ID", 32, false),
        ],
        SObject::Opportunity => vec![
            name_field(required(text("Name", "Name", 120))),
            lookup(
                "AccountId",
                "Account ID",
                &[SObject::Account],
                "Account",
                Some("Opportunities"),
            ),
            required(restricted(picklist("StageName", "Stage", STAGE_OPTIONS))),
            required(field("CloseDate", "Close Date", Date, 0)),
            number("Amount", "Amount", Currency),
            number("Probability", "Probability (%)", Percent),
            system(number("ExpectedRevenue", "Expected Amount", Currency)),
            picklist("Type", "Opportunity Type", OPPORTUNITY_TYPES),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES),
            text("NextStep", "Next Step", 255),
            area("Description", "Description", 32000),
            FieldDef {
                nillable: false,
                ..system(checkbox("IsClosed", "Closed", "false"))
            },
            FieldDef {
                nillable: false,
                ..system(checkbox("IsWon", "Won", "false"))
            },
            FieldDef {
                nillable: false,
                defaulted_on_create: true,
                ..system(restricted(picklist(
                    "ForecastCategoryName",
                    "Forecast Category",
                    FORECAST,
                )))
            },
            system(checkbox("HasOpportunityLineItem", "Has Line Item", "false")),
            lookup(
                "Pricebook2Id",
                "Price Book ID",
                &[SObject::Pricebook2],
                "Pricebook2",
                None,
            ),
            owner(),
            currency_code(),
            custom(text("Order_Number__c", "Order Number", 30)),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
        ],
        SObject::OpportunityLineItem => vec![
            required(create_only(lookup(
                "OpportunityId",
                "Opportunity ID",
                &[SObject::Opportunity],
                "Opportunity",
                Some("OpportunityLineItems"),
            ))),
            FieldDef {
                defaulted_on_create: true,
                ..create_only(lookup(
                    "PricebookEntryId",
                    "Price Book Entry ID",
                    &[SObject::PricebookEntry],
                    "PricebookEntry",
                    Some("OpportunityLineItems"),
                ))
            },
            FieldDef {
                defaulted_on_create: true,
                ..create_only(lookup(
                    "Product2Id",
                    "Product ID",
                    &[SObject::Product2],
                    "Product2",
                    None,
                ))
            },
            name_field(system(text("Name", "Opportunity Product Name", 376))),
            system(text("ProductCode", "Product Code", 255)),
            required(number("Quantity", "Quantity", Double)),
            FieldDef {
                defaulted_on_create: true,
                ..number("UnitPrice", "Sales Price", Currency)
            },
            system(number("ListPrice", "List Price", Currency)),
            number("Discount", "Discount", Percent),
            system(number("Subtotal", "Subtotal", Currency)),
            system(number("TotalPrice", "Total Price", Currency)),
            field("ServiceDate", "Date", Date, 0),
            text("Description", "Line Description", 255),
            system(currency_code()),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
        ],
        SObject::Product2 => vec![
            name_field(required(text("Name", "Product Name", 255))),
            text("ProductCode", "Product Code", 255),
            area("Description", "Product Description", 4000),
            checkbox("IsActive", "Active", "false"),
            picklist("Family", "Product Family", FAMILIES),
            text("QuantityUnitOfMeasure", "Quantity Unit Of Measure", 255),
            currency_code(),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
        ],
        SObject::Pricebook2 => vec![
            name_field(required(text("Name", "Price Book Name", 255))),
            checkbox("IsActive", "Active", "false"),
            system(checkbox("IsStandard", "Is Standard Price Book", "false")),
            text("Description", "Description", 255),
        ],
        SObject::PricebookEntry => vec![
            name_field(system(text("Name", "Product Name", 255))),
            required(create_only(lookup(
                "Pricebook2Id",
                "Price Book ID",
                &[SObject::Pricebook2],
                "Pricebook2",
                Some("PricebookEntries"),
            ))),
            required(create_only(lookup(
                "Product2Id",
                "Product ID",
                &[SObject::Product2],
                "Product2",
                Some("PricebookEntries"),
            ))),
            required(number("UnitPrice", "List Price", Currency)),
            checkbox("IsActive", "Active", "false"),
            checkbox("UseStandardPrice", "Use Standard Price", "false"),
            system(text("ProductCode", "Product Code", 255)),
            create_only(currency_code()),
        ],
        SObject::Event => vec![
            name_field(FieldDef {
                picklist: SUBJECTS,
                ..field("Subject", "Subject", Combobox, 255)
            }),
            FieldDef {
                defaulted_on_create: true,
                ..field("StartDateTime", "Start Date Time", DateTime, 0)
            },
            FieldDef {
                defaulted_on_create: true,
                ..field("EndDateTime", "End Date Time", DateTime, 0)
            },
            FieldDef {
                defaulted_on_create: true,
                ..number("DurationInMinutes", "Duration", Int)
            },
            system(field("ActivityDateTime", "Due Date Time", DateTime, 0)),
            system(field("ActivityDate", "Due Date Only", Date, 0)),
            checkbox("IsAllDayEvent", "All-Day Event", "false"),
            lookup("WhoId", "Name ID", &[SObject::Contact], "Who", Some("Events")),
            lookup(
                "WhatId",
                "Related To ID",
                &[SObject::Account, SObject::Opportunity],
                "What",
                Some("Events"),
            ),
            text("Location", "Location", 255),
            area("Description", "Description", 32000),
            FieldDef {
                nillable: false,
                defaulted_on_create: true,
                default_value: Some("Busy"),
                ..picklist("ShowAs", "Show Time As", SHOW_AS)
            },
            owner(),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
        ],
        SObject::Task => vec![
            name_field(FieldDef {
                picklist: SUBJECTS,
                ..field("Subject", "Subject", Combobox, 255)
            }),
            // Set when the task is made (an email logged, a call logged), never changed after.
            create_only(picklist("TaskSubtype", "Task Subtype", TASK_SUBTYPES)),
            FieldDef {
                nillable: false,
                defaulted_on_create: true,
                default_value: Some("Not Started"),
                ..picklist("Status", "Status", TASK_STATUSES)
            },
            field("ActivityDate", "Due Date Only", Date, 0),
            lookup("WhoId", "Name ID", &[SObject::Contact], "Who", Some("Tasks")),
            lookup(
                "WhatId",
                "Related To ID",
                &[SObject::Account, SObject::Opportunity],
                "What",
                Some("Tasks"),
            ),
            picklist("CallType", "Call Type", CALL_TYPES),
            number("CallDurationInSeconds", "Call Duration", Int),
            area("Description", "Comments", 32000),
            owner(),
            external_id("Tandem_Id__c", "Tandem ID", 64, true),
        ],
        SObject::User => vec![
            system(FieldDef {
                unique: true,
                nillable: false,
                ..text("Username", "Username", 80)
            }),
            system(text("FirstName", "First Name", 40)),
            system(text("LastName", "Last Name", 80)),
            name_field(system(text("Name", "Full Name", 121))),
            system(field("Email", "Email", Email, 128)),
            system(text("Alias", "Alias", 8)),
            system(text("Title", "Title", 80)),
            system(checkbox("IsActive", "Active", "true")),
            system(text("TimeZoneSidKey", "Time Zone", 40)),
            system(text("LanguageLocaleKey", "Language", 40)),
        ],
    };
    fields.extend(specific);
    fields.extend(audit_fields());
    fields
}

fn labels(object: SObject) -> (&'static str, &'static str) {
    match object {
        SObject::Account => ("Account", "Accounts"),
        SObject::Contact => ("Contact", "Contacts"),
        SObject::Opportunity => ("Opportunity", "Opportunities"),
        SObject::OpportunityLineItem => ("Opportunity Product", "Opportunity Product"),
        SObject::Product2 => ("Product", "Products"),
        SObject::Pricebook2 => ("Price Book", "Price Books"),
        SObject::PricebookEntry => ("Price Book Entry", "Price Book Entries"),
        SObject::Event => ("Event", "Events"),
        SObject::User => ("User", "Users"),
        SObject::Task => ("Task", "Tasks"),
    }
}

fn definitions() -> &'static [ObjectDef] {
    static DEFS: OnceLock<Vec<ObjectDef>> = OnceLock::new();
    DEFS.get_or_init(|| {
        SObject::ALL
            .iter()
            .map(|object| {
                let fields = fields(*object);
                let by_name = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.name.to_ascii_lowercase(), i as u16))
                    .collect();
                let (label, label_plural) = labels(*object);
                let writable = *object != SObject::User;
                ObjectDef {
                    sobject: *object,
                    label,
                    label_plural,
                    fields,
                    createable: writable,
                    updateable: writable,
                    deletable: writable,
                    by_name,
                }
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_consistent() {
        for object in SObject::ALL {
            let def = object.def();
            assert_eq!(def.sobject, object);
            assert_eq!(def.fields[0].name, "Id");
            for (i, field) in def.fields.iter().enumerate() {
                assert_eq!(
                    def.field(field.name).map(|(n, _)| n),
                    Some(i as u16),
                    "{} twice",
                    field.name
                );
                assert_eq!(field.custom, field.name.ends_with("__c"), "{}", field.name);
                assert_eq!(field.ftype == FieldType::Reference, !field.reference_to.is_empty());
            }
            assert!(def.field("systemmodstamp").is_some(), "names are case-insensitive");
            if object != SObject::User && object != SObject::Pricebook2 && object != SObject::PricebookEntry {
                assert!(
                    def.fields.iter().any(|f| f.external_id && f.unique),
                    "{object:?} has an External ID"
                );
            }
        }
        let contact = SObject::Contact.def();
        let required: Vec<&str> = contact.fields.iter().filter(|f| f.required()).map(|f| f.name).collect();
        assert_eq!(required, ["LastName"]);
        let opportunity = SObject::Opportunity.def();
        let required: Vec<&str> = opportunity
            .fields
            .iter()
            .filter(|f| f.required())
            .map(|f| f.name)
            .collect();
        assert_eq!(required, ["Name", "StageName", "CloseDate"]);
        assert_eq!(SObject::from_prefix("00k"), Some(SObject::OpportunityLineItem));
        assert_eq!(SObject::parse("contact"), Some(SObject::Contact));
        let describe = SObject::Account.def().describe("62.0");
        let children: Vec<&str> = describe["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["relationshipName"].as_str().unwrap())
            .collect();
        assert!(children.contains(&"Contacts") && children.contains(&"Opportunities") && children.contains(&"Events"));
        let stage = &SObject::Opportunity.def().describe("62.0")["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "StageName")
            .unwrap()
            .clone();
        assert_eq!(stage["restrictedPicklist"], true);
        assert_eq!(stage["nillable"], false);
        assert_eq!(stage["picklistValues"][0]["value"], "Prospecting");
    }
}
