//! Live progress: a pipeline's runs as server-sent events — the current list at once, and again
//! whenever a run starts, moves on or ends — for the history page's progress bar.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::runs::{Run, RunStatus};

use crate::db_tests;
use crate::helpers::{Backend, spawn_app};
use crate::sync::Synced;

db_tests!(run_progress_streams_as_server_sent_events);

/// Reads events from the stream until one satisfies `done`; returns every `runs` event read.
async fn read_until(response: &mut reqwest::Response, done: impl Fn(&[Run]) -> bool) -> Vec<Vec<Run>> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.lines().any(|l| l == "event: runs") {
                let data = block.lines().find_map(|l| l.strip_prefix("data: ")).expect("data");
                let runs: Vec<Run> = serde_json::from_str(data).unwrap();
                let finished = done(&runs);
                events.push(runs);
                if finished {
                    return events;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("the event came in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn run_progress_streams_as_server_sent_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Live", "hubspot").await;
    let records: Vec<Value> = (0..30)
        .map(|i| json!({ "external_id": format!("live-{i}"), "data": { "email": format!("live{i}@live.example") } }))
        .collect();
    t.push("contact", Value::Array(records)).await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Live contacts",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    let url = format!(
        "{}{}",
        app.address,
        t.path(&format!("pipelines/{}/runs/stream", pipeline.id))
    );
    let mut stream = t.admin.http.get(&url).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // At once: the runs so far (none).
    let first = read_until(&mut stream, |_| true).await;
    assert_eq!(first, vec![Vec::<Run>::new()]);

    // The first run, as it goes: the stream tells without being asked.
    app.run_jobs().await;
    let events = read_until(&mut stream, |runs| {
        runs.first().is_some_and(|r| r.status == RunStatus::Succeeded)
    })
    .await;
    let last = events.last().unwrap();
    assert_eq!(last[0].counts.created, 30, "{last:?}");

    // Someone else's pipeline, or none: a plain 404, no stream.
    let (_, other_admin) = app.tenant_with_admin("Other Live").await;
    let foreign = other_admin.http.get(&url).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
}
