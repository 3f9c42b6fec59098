//! Touch-points (PRODUCT.md flow 5): how many emails and calls the CRMs hold for one of the app's
//! contacts. Read live, through the links the contact pipelines keep, so the answer is what each
//! CRM says now; one CRM that cannot answer does not hide the others.

use tandem_shared::api::pipelines::{Endpoint, Side};
use tandem_shared::api::records::{ContactTouchPoints, CrmTouchPoints};
use tandem_shared::ids::ConnectionId;
use tandem_shared::model::{AppObject, TouchPoints};

use super::ServiceError;
use crate::auth::AppPrincipal;
use crate::repo::{app_records, connections, pipelines, sync_links, tenants};
use crate::state::AppState;

pub async fn for_contact(
    state: &AppState,
    app: &AppPrincipal,
    external_id: &str,
) -> Result<ContactTouchPoints, ServiceError> {
    let pool = state.db.pool();
    app_records::get(pool, app.environment_id, AppObject::Contact, external_id)
        .await?
        .filter(|r| !r.deleted)
        .ok_or(ServiceError::NotFound("record"))?;
    let tenant = tenants::get(pool, app.tenant_id)
        .await?
        .ok_or(ServiceError::NotFound("tenant"))?;

    // The contact's twin in each CRM, from the links of the environment's contact pipelines.
    let mut twins: Vec<(ConnectionId, String)> = Vec::new();
    for stored in pipelines::list(pool, app.tenant_id).await? {
        let pipeline = &stored.pipeline;
        if stored.environment_id != app.environment_id || pipeline.object != AppObject::Contact {
            continue;
        }
        let (app_side, connection_id) = match (pipeline.source, pipeline.target) {
            (Endpoint::App, Endpoint::Connection { connection_id }) => (Side::Source, connection_id),
            (Endpoint::Connection { connection_id }, Endpoint::App) => (Side::Target, connection_id),
            _ => continue,
        };
        let links = sync_links::by_ids(pool, pipeline.id, app_side, &[external_id.to_string()]).await?;
        for link in links.into_values().filter(|l| l.deleted_at.is_none()) {
            let crm_id = match app_side {
                Side::Source => link.target_id,
                Side::Target => link.source_id,
            };
            if !twins.contains(&(connection_id, crm_id.clone())) {
                twins.push((connection_id, crm_id));
            }
        }
    }

    let mut total = TouchPoints::default();
    let mut crms = Vec::with_capacity(twins.len());
    for (connection_id, crm_id) in twins {
        let Some(stored) = connections::get(pool, app.tenant_id, connection_id).await? else {
            continue;
        };
        let (provider, account_name) = (
            stored.connection.provider.clone(),
            stored.connection.account_name.clone(),
        );
        let ids = vec![crm_id.clone()];
        let answer = super::pipelines::crm_call(state, &tenant, stored, move |connector, credential| {
            let ids = ids.clone();
            async move { connector.touch_points(&credential, &ids).await }
        })
        .await;
        let (touch_points, error) = match answer {
            Ok(mut counts) => {
                let counts = counts.remove(&crm_id).unwrap_or_default();
                total.emails += counts.emails;
                total.calls += counts.calls;
                (Some(counts), None)
            }
            Err(error) => {
                tracing::warn!(%connection_id, %error, "could not read touch-points");
                (None, Some(error))
            }
        };
        crms.push(CrmTouchPoints {
            connection_id,
            provider,
            account_name,
            crm_id,
            touch_points,
            error,
        });
    }
    Ok(ContactTouchPoints {
        external_id: external_id.to_string(),
        total,
        crms,
    })
}
