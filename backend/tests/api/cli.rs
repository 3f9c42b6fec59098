//! The `tandem` binary: commands work against the same database as a running server, and
//! errors are one clear line with a non-zero exit.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use secrecy::ExposeSecret;

use crate::db_tests;
use crate::helpers::{Backend, TestApp, spawn_app};

db_tests!(
    tenant_and_user_commands_change_what_the_server_sees,
    cli_errors_are_one_line_with_a_failing_exit,
    set_password_and_migrate
);

/// The binary, configured for the test app's database and data directory and nothing else.
pub fn tandem_command(app: &TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .env_clear()
        .env("TANDEM_DATABASE_URL", app.settings.database_url().expose_secret())
        .env("TANDEM_DATA_DIR", app.data_dir.path())
        .env("TANDEM_LOG__FORMAT", "json");
    command
}

fn run(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = tandem_command(app);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn tenant_and_user_commands_change_what_the_server_sees(backend: Backend) {
    let app = spawn_app(backend).await;
    let output = run(&app, &["tenant", "add", "Acme GmbH"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("created tenant Acme GmbH (acme-gmbh), id "),
        "{}",
        stdout(&output)
    );

    let output = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "Ada@Acme.example.com",
            "--role",
            "admin",
            "--tenant",
            "acme-gmbh",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // The running server sees both at once.
    let mut ada = app.client();
    let session = ada.login_ok("ada@acme.example.com", &password).await;
    let tenants: Vec<tandem_shared::api::tenants::Tenant> = ada.get_ok("/api/v1/tenants").await;
    assert_eq!(tenants[0].slug, "acme-gmbh");
    assert_eq!(session.user.tenant_id, Some(tenants[0].id));

    // Operator staff from the CLI, with a chosen password on stdin.
    let output = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "sam@operator.example.com",
            "--role",
            "support",
            "--password-stdin",
        ],
        Some("support-password-1\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !stdout(&output).contains("password:"),
        "a chosen password is not echoed"
    );
    app.client()
        .login_ok("sam@operator.example.com", "support-password-1")
        .await;

    let output = run(&app, &["tenant", "list"], None);
    let listing = stdout(&output);
    assert!(listing.contains("acme-gmbh") && listing.contains("[demo]"), "{listing}");

    let audit: serde_json::Value = app.admin().await.get_ok("/api/v1/audit").await;
    assert!(
        audit.to_string().contains("tandem user add"),
        "CLI changes are audited with the command as actor"
    );
}

async fn cli_errors_are_one_line_with_a_failing_exit(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases: [(&[&str], &str); 6] = [
        (
            &["user", "add", "--email", "x@example.com", "--role", "admin"],
            "--tenant is required for the admin role",
        ),
        (
            &[
                "user",
                "add",
                "--email",
                "x@example.com",
                "--role",
                "admin",
                "--tenant",
                "nope",
            ],
            "no tenant with slug or id \"nope\"",
        ),
        (&["user", "add", "--email", "x@example.com", "--role", "boss"], "role"),
        (
            &["user", "add", "--email", "not-an-email", "--role", "support"],
            "--email",
        ),
        (
            &["user", "add", "--email", "admin@tandem.test", "--role", "support"],
            "already exists",
        ),
        (&["tenant", "add", "Demo", "--slug", "demo"], "already exists"),
    ];
    for (args, expected) in cases {
        let output = run(&app, args, None);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: {err}");
    }
    let output = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "y@example.com",
            "--role",
            "support",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("password: must be at least 12 characters"),
        "{}",
        stderr(&output)
    );

    let mut command = tandem_command(&app);
    let output = command
        .env("TANDEM_SERVER__PORT", "not-a-port")
        .args(["migrate"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.starts_with("error: configuration") && err.contains("port"), "{err}");
}

async fn set_password_and_migrate(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let output = run(
        &app,
        &["user", "set-password", "admin@tandem.test", "--password-stdin"],
        Some("a-brand-new-password\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("their sessions were ended"));
    let response = admin.get("/api/v1/auth/session").await;
    assert_eq!(
        response.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "old sessions ended"
    );
    app.client().login_ok("admin@tandem.test", "a-brand-new-password").await;

    let output = run(&app, &["migrate"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("migrations applied"), "{}", stdout(&output));

    let output = run(&app, &["keys", "generate"], None);
    let line = stdout(&output);
    assert!(line.starts_with("k1:") && line.trim().len() == 3 + 44, "{line}");
}
