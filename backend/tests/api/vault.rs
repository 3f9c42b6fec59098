//! Credentials at rest: bound to their place, never in clear in the database, a dump or the
//! logs, and re-encrypted by `tandem keys rotate` while the server runs.

use std::process::Command;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tandem::repo::vault_secrets;
use tandem::vault::{Keyring, Vault, VaultError, generate_key_line};
use tandem_shared::api::api_keys::CreatedApiKey;

use crate::cli::tandem_command;
use crate::db_tests;
use crate::helpers::{Backend, TestApp, captured_logs, spawn_app};

db_tests!(
    wrong_key_moved_and_tampered_ciphertexts_fail_with_a_typed_error,
    known_secrets_never_appear_in_clear,
    keys_rotate_reencrypts_everything_while_the_server_runs,
);

const OWNER: &str = "connection-1";
const PURPOSE: &str = "oauth_tokens";

async fn wrong_key_moved_and_tampered_ciphertexts_fail_with_a_typed_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let vault = &app.state.vault;
    let tenant = app.demo_tenant.id;
    vault
        .put(tenant, OWNER, PURPOSE, &SecretString::from("refresh-token-1"))
        .await
        .unwrap();
    let opened = vault.get(tenant, OWNER, PURPOSE).await.unwrap().unwrap();
    assert_eq!(opened.expose_secret(), "refresh-token-1");
    assert!(vault.get(tenant, OWNER, "other_purpose").await.unwrap().is_none());

    // Wrong key: same key id, other material.
    let stranger = Vault::new(
        app.db().clone(),
        Arc::new(Keyring::from_inline(&generate_key_line(std::iter::empty()).unwrap()).unwrap()),
    );
    assert!(matches!(
        stranger.get(tenant, OWNER, PURPOSE).await,
        Err(VaultError::Unseal)
    ));
    // A keyring without that key id at all.
    let line = generate_key_line(["k1"].into_iter()).unwrap();
    let other = Vault::new(app.db().clone(), Arc::new(Keyring::from_inline(&line).unwrap()));
    assert!(matches!(other.get(tenant, OWNER, PURPOSE).await, Err(VaultError::UnknownKey(id)) if id == "k1"));

    // Tampered: flip one bit of the stored ciphertext.
    let row = vault_secrets::get(app.db().pool(), tenant, OWNER, PURPOSE)
        .await
        .unwrap()
        .unwrap();
    let mut tampered = row.sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x80;
    sqlx::query("UPDATE vault_secrets SET sealed = $1 WHERE id = $2")
        .bind(tampered)
        .bind(&row.id)
        .execute(app.db().pool())
        .await
        .unwrap();
    assert!(matches!(
        vault.get(tenant, OWNER, PURPOSE).await,
        Err(VaultError::Unseal)
    ));
    sqlx::query("UPDATE vault_secrets SET sealed = $1 WHERE id = $2")
        .bind(row.sealed.clone())
        .bind(&row.id)
        .execute(app.db().pool())
        .await
        .unwrap();
    assert!(vault.get(tenant, OWNER, PURPOSE).await.is_ok());

    // Moved: the row copied to another tenant, or to another owner, does not open there.
    let (other_tenant, _) = app.tenant_with_admin("Other Tenant").await;
    sqlx::query("UPDATE vault_secrets SET tenant_id = $1 WHERE id = $2")
        .bind(other_tenant.id.to_string())
        .bind(&row.id)
        .execute(app.db().pool())
        .await
        .unwrap();
    assert!(matches!(
        vault.get(other_tenant.id, OWNER, PURPOSE).await,
        Err(VaultError::Unseal)
    ));
    sqlx::query("UPDATE vault_secrets SET tenant_id = $1, owner_id = 'connection-2' WHERE id = $2")
        .bind(tenant.to_string())
        .bind(&row.id)
        .execute(app.db().pool())
        .await
        .unwrap();
    assert!(matches!(
        vault.get(tenant, "connection-2", PURPOSE).await,
        Err(VaultError::Unseal)
    ));
}

async fn known_secrets_never_appear_in_clear(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = "oauth-refresh-token-7f3a9c1e5b";
    app.state
        .vault
        .put(app.demo_tenant.id, OWNER, PURPOSE, &SecretString::from(token))
        .await
        .unwrap();

    // A password and an API key, through the API.
    let password = "correct-horse-battery-staple";
    let admin = app.admin().await;
    let users = format!("/api/v1/tenants/{}/users", app.demo_tenant.id);
    let _: serde_json::Value = admin
        .post_ok(
            &users,
            &json!({ "email": "kim@example.com", "name": "Kim", "role": "admin", "password": password }),
        )
        .await;
    let mut kim = app.client();
    kim.login_ok("kim@example.com", password).await;
    let key: CreatedApiKey = kim
        .post_ok(
            &format!("/api/v1/tenants/{}/api-keys", app.demo_tenant.id),
            &json!({ "name": "K", "environment": "sandbox" }),
        )
        .await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/app/whoami", app.address))
        .bearer_auth(&key.secret)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    // A real OAuth connection to the HubSpot sandbox: its tokens must not show either.
    let connection = crate::helpers::connect_sandbox(&kim, app.demo_tenant.id, "hubspot", "sandbox").await;
    let sealed = app
        .state
        .vault
        .get(app.demo_tenant.id, &connection.id.to_string(), "oauth_tokens")
        .await
        .unwrap()
        .unwrap();
    let oauth: serde_json::Value = serde_json::from_str(sealed.expose_secret()).unwrap();
    let (access, refresh) = (
        oauth["access_token"].as_str().unwrap(),
        oauth["refresh_token"].as_str().unwrap(),
    );
    assert!(access.len() > 20 && refresh.len() > 20);
    let check: serde_json::Value = kim
        .post_ok(
            &format!(
                "/api/v1/tenants/{}/connections/{}/test",
                app.demo_tenant.id, connection.id
            ),
            &json!({}),
        )
        .await;
    assert_eq!(check["ok"], true);
    let secrets = [
        token,
        password,
        key.secret.as_str(),
        crate::helpers::ADMIN_PASSWORD,
        access,
        refresh,
    ];

    let stored = database_bytes(&app).await;
    assert!(
        stored.len() > 2_000,
        "the database content was read ({} bytes)",
        stored.len()
    );
    for secret in secrets {
        assert!(!contains(&stored, secret), "{secret:?} is stored in clear");
    }
    let logs = captured_logs();
    assert!(logs.contains("request_id"), "the logs were captured");
    assert!(
        logs.contains(&app.demo_tenant.id.to_string()),
        "requests log their tenant"
    );
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}

/// Everything the database holds: the SQLite files, or a full `pg_dump`.
async fn database_bytes(app: &TestApp) -> Vec<u8> {
    match app.database.backend {
        Backend::Sqlite => {
            // Checkpoint so that the main file holds the data, then read every file anyway.
            sqlx::query("PRAGMA wal_checkpoint(FULL)")
                .execute(app.db().pool())
                .await
                .unwrap();
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path.file_name().unwrap().to_string_lossy().starts_with("tandem.db") {
                    bytes.extend(std::fs::read(&path).unwrap());
                }
            }
            bytes
        }
        Backend::Postgres => {
            let name = app.database.pg_name.clone().unwrap();
            let output = Command::new("pg_dump")
                .args(["-h", "127.0.0.1", "-U", "postgres", "--data-only", &name])
                .output()
                .expect("pg_dump is installed");
            assert!(
                output.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

async fn keys_rotate_reencrypts_everything_while_the_server_runs(backend: Backend) {
    let app = spawn_app(backend).await;
    let vault = &app.state.vault;
    let tenant = app.demo_tenant.id;
    for i in 0..250 {
        vault
            .put(
                tenant,
                &format!("connection-{i}"),
                PURPOSE,
                &SecretString::from(format!("token-{i}")),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        vault_secrets::count_by_key(app.db().pool()).await.unwrap(),
        vec![("k1".to_string(), 250)]
    );

    let output = tandem_command(&app)
        .args(["keys", "rotate", "--batch-size", "100"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("added master key k2"), "{stdout}");
    assert!(
        stdout.contains("re-encrypted 250 secrets with key k2 in 3 batches"),
        "{stdout}"
    );
    assert_eq!(
        vault_secrets::count_by_key(app.db().pool()).await.unwrap(),
        vec![("k2".to_string(), 250)]
    );

    // The running server reads every value with the new key, and seals new ones with it.
    for i in [0, 99, 100, 249] {
        let value = vault
            .get(tenant, &format!("connection-{i}"), PURPOSE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(value.expose_secret(), format!("token-{i}"));
    }
    vault
        .put(tenant, "connection-new", PURPOSE, &SecretString::from("fresh"))
        .await
        .unwrap();
    let row = vault_secrets::get(app.db().pool(), tenant, "connection-new", PURPOSE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.key_id, "k2");

    // A second rotation finds everything but the old keys' rows already done.
    let output = tandem_command(&app).args(["keys", "status"]).output().unwrap();
    let status = String::from_utf8_lossy(&output.stdout);
    assert!(
        status.contains("keys: k1, k2 (active: k2)") && status.contains("k2: 251 secrets"),
        "{status}"
    );
}
