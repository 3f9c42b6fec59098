use std::process::ExitCode;

use clap::Parser;
use tandem::cli::{self, Cli, Command};
use tandem::configuration::Settings;
use tandem::telemetry;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Commands other than `serve` keep the terminal for their own output: warnings only.
    if !matches!(cli.command, Command::Serve) && std::env::var_os("RUST_LOG").is_none() {
        settings.log.filter = "warn".into();
    }
    telemetry::init_logging(&settings.log, std::io::stderr);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
