//! A real actix-web server for integration tests: it listens on a free port of
//! 127.0.0.1, runs in a thread of its own with two workers and no signal handling, and is
//! stopped (and its thread joined) when dropped.
//!
//! [`Loopback::bind`] takes the port first, so that the application can be built knowing
//! its own origin (a public URL, an issuer); [`serve`] does both steps at once.

use std::net::TcpListener;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};

/// A bound loopback port that no server answers on yet.
pub struct Loopback {
    listener: TcpListener,
    origin: String,
}

impl Loopback {
    /// Binds a free port on 127.0.0.1.
    pub fn bind() -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let origin = format!(
            "http://{}",
            listener.local_addr().expect("listener address")
        );
        Loopback { listener, origin }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Serves an `App` that `configure` sets up (called once per worker) until the
    /// returned handle is dropped.
    pub fn serve<F>(self, configure: F) -> Running
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let Loopback { listener, origin } = self;
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || App::new().configure(configure.clone()))
                    .workers(2)
                    .disable_signals()
                    .listen(listener)?
                    .run();
                let _ = tx.send(server.handle());
                server.await
            })
        });
        Running {
            origin,
            handle: rx.recv().expect("the server thread started"),
            thread: Some(thread),
        }
    }
}

/// Serves an `App` that `configure` sets up on a free loopback port until the returned
/// handle is dropped.
pub fn serve<F>(configure: F) -> Running
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    Loopback::bind().serve(configure)
}

/// A running server; dropping it stops the server without waiting for requests in flight
/// (a long poll would hold it up) and waits for its thread to end.
pub struct Running {
    origin: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
