//! `serve`: opens the storage, binds, serves the repository API until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use events_core::{Encoding, EventClock};

use crate::Outcome;
use crate::http::{AppState, router};
use crate::storage::SqliteRepository;

pub fn run(bind: SocketAddr, data: &Path) -> Outcome {
    match serve(bind, data) {
        Ok(()) => Outcome::Ok,
        Err(error) => {
            eprintln!("reference-server: {error}");
            Outcome::Unreadable
        }
    }
}

fn serve(bind: SocketAddr, data: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let repository = SqliteRepository::open(&data.join("repository.sqlite"))?;
    let state = AppState {
        repository: Arc::new(repository),
        encodings: Arc::new(vec![Encoding::twinsphere()]),
        clock: Arc::new(Mutex::new(EventClock::new())),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("{bind}: {e}"))?;
        eprintln!(
            "reference-server: listening on http://{}",
            listener.local_addr()?
        );
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
