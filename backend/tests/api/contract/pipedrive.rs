//! The connector contract for Pipedrive: against the Pipedrive sandbox (with the user's API
//! token), and against a real company when `TANDEM_CONTRACT_PIPEDRIVE_DOMAIN` (its
//! `https://<company>.pipedrive.com`) and `TANDEM_CONTRACT_PIPEDRIVE_TOKEN` (a personal API
//! token) are set; the real run creates clearly named test persons, a "Tandem ID" person field
//! if there is none, and deletes the persons again.

use std::sync::Arc;

use secrecy::SecretString;
use tandem::connectors::pipedrive::PipedriveConnector;
use tandem::connectors::{Credential, Fields, TokenKind, http_client};

use super::{Facts, SandboxAccount, Subject, fields};
use crate::helpers::SandboxServer;

fn facts() -> Facts {
    Facts {
        contact: |email| fields(&[("name", "Ada Lovelace"), ("first_name", "Ada"), ("email", email)]),
        email_field: "email",
        text_field: "last_name",
        // Pipedrive takes any text as an email; it refuses a link to an organization that
        // does not exist.
        refused_contact: || {
            (
                fields(&[("name", "Broken"), ("org_id", "999999999")]) as Fields,
                "org_id",
            )
        },
        missing_id: "999999999",
        picklist: ("label_ids", "Customer"),
    }
}

fn subject(credential: Credential) -> Subject {
    Subject {
        connector: Arc::new(PipedriveConnector::new(http_client().unwrap())),
        credential,
        facts: facts(),
    }
}

pub async fn sandbox_subject<'a>(server: &'a SandboxServer, account: &str) -> (Subject, SandboxAccount<'a>) {
    let token = server
        .control(
            "POST",
            &format!("/pipedrive/accounts/{account}/tokens/static"),
            serde_json::Value::Null,
        )
        .await;
    let credential = Credential {
        access_token: SecretString::from(token["access_token"].as_str().unwrap().to_string()),
        base_url: format!("{}/pipedrive/{account}", server.base),
        kind: TokenKind::ApiToken,
    };
    (
        subject(credential),
        SandboxAccount {
            server,
            crm: "pipedrive",
            account: account.into(),
        },
    )
}

pub fn real_subject() -> Option<Subject> {
    let (Ok(domain), Ok(token)) = (
        std::env::var("TANDEM_CONTRACT_PIPEDRIVE_DOMAIN"),
        std::env::var("TANDEM_CONTRACT_PIPEDRIVE_TOKEN"),
    ) else {
        eprintln!(
            "SKIPPED: set TANDEM_CONTRACT_PIPEDRIVE_DOMAIN (https://<company>.pipedrive.com) and \
             TANDEM_CONTRACT_PIPEDRIVE_TOKEN (a personal API token) to run the Pipedrive contract against a real company"
        );
        return None;
    };
    Some(subject(Credential {
        access_token: SecretString::from(token),
        base_url: domain,
        kind: TokenKind::ApiToken,
    }))
}

crate::contract_tests!("pipedrive", sandbox_subject, real_subject);
