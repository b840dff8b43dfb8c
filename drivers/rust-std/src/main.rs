//! A driver (protocol mpsc-driver/1, see ../PROTOCOL.md) for Rust's `std::sync::mpsc`.
//!
//! One process serves one channel: `"new"` makes `channel()` (capacity null) or
//! `sync_channel(k)` (k >= 0, so `sync_channel(0)` is the rendezvous channel), and every other
//! request runs on the OS thread its `"thread"` names, created on first use, so blocking calls
//! really block and calls from different threads really race.
//!
//! Handles live in a table, name -> handle. A request clones the handle's `Arc` out of the
//! table and drops that clone *before* writing its reply, so once a caller has seen a reply,
//! the table's reference is the only one left, and `"close"` (removing it) really drops the
//! library handle, which is what disconnects the channel. Two consequences of Rust's ownership,
//! declared in the hello:
//! - a handle cannot be dropped while another thread is blocked in a call through it (that call
//!   holds a reference); `"close"` then only removes the name, and the drop happens when the
//!   blocked call ends: `close_while_blocked` is missing;
//! - `Receiver` is not `Sync`, so threads share it through a `Mutex`: a `recv` waits for the
//!   lock as long as it would wait for a message, a timed `recv` waits at most its timeout, and
//!   a `try_recv` that finds another thread inside `recv` answers `"empty"` (that thread is
//!   waiting, so the channel is empty, or it is about to take the one message there is).
//!
//! `SyncSender` has no `send_timeout` in std: a timed send is answered `"unsupported"`, except
//! on the unbounded channel, whose `send` never blocks and so never times out.

mod json;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError};
use std::thread;
use std::time::{Duration, Instant};

use json::{quote, Value};

/// The hello, written before anything is read. Kept on one line (the protocol is JSON lines).
fn hello() -> String {
    format!(
        concat!(
            r#"{{"protocol": "mpsc-driver/1", "name": "rust-std", "language": "rust", "#,
            r#""library": "std::sync::mpsc", "version": {version}, "#,
            r#""offers": {{"capacities": {{"unbounded": true, "bounded": true, "rendezvous": true}}, "#,
            r#""missing": ["send_timeout", "close_while_blocked"], "deviations": []}}}}"#
        ),
        version = quote(option_env!("MPSC_DRIVER_RUSTC_VERSION").unwrap_or("unknown")),
    )
}

type Token = i64;

enum Tx {
    Unbounded(mpsc::Sender<Token>),
    Bounded(mpsc::SyncSender<Token>),
}

impl Tx {
    fn duplicate(&self) -> Tx {
        match self {
            Tx::Unbounded(s) => Tx::Unbounded(s.clone()),
            Tx::Bounded(s) => Tx::Bounded(s.clone()),
        }
    }
}

type Rx = Mutex<mpsc::Receiver<Token>>;

#[derive(Clone)]
enum Handle {
    Sender(Arc<Tx>),
    Receiver(Arc<Rx>),
}

/// name -> handle; `None` once closed (so a second close is a no-op and other calls are
/// `"closed"`, while an unknown name is a protocol error).
struct Table {
    handles: BTreeMap<String, Option<Handle>>,
    senders_made: usize,
}

static TABLE: Mutex<Table> = Mutex::new(Table { handles: BTreeMap::new(), senders_made: 0 });
static STDOUT: Mutex<()> = Mutex::new(());
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_ns() -> u128 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos()
}

/// Write one whole line and flush, under the lock, so replies from threads never interleave.
/// A failed write means the Python side is gone: exit rather than run on unobserved.
fn write_line(line: &str) {
    let _guard = lock(&STDOUT);
    let mut out = io::stdout().lock();
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// A reply being built: `{"id": .., "outcome": .., more fields..}`.
struct Reply {
    id: String,
    outcome: &'static str,
    fields: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(id: &str, outcome: &'static str) -> Reply {
        Reply { id: id.to_string(), outcome, fields: Vec::new() }
    }
    fn with(mut self, key: &'static str, json_value: String) -> Reply {
        self.fields.push((key, json_value));
        self
    }
    fn value(self, token: Token) -> Reply {
        self.with("value", token.to_string())
    }
    fn message(self, text: &str) -> Reply {
        self.with("message", quote(text))
    }
    fn render(&self) -> String {
        let mut line = format!(r#"{{"id": {}, "outcome": "{}""#, self.id, self.outcome);
        for (key, value) in &self.fields {
            line.push_str(&format!(r#", "{key}": {value}"#));
        }
        line.push('}');
        line
    }
}

fn error(id: &str, text: &str) -> Reply {
    Reply::new(id, "error").message(text)
}

/// One parsed request; `id` is kept as its JSON text, echoed verbatim.
struct Request {
    id: String,
    op: String,
    body: Value,
}

impl Request {
    fn handle_name(&self) -> Result<&str, Reply> {
        self.body
            .get("handle")
            .and_then(Value::as_str)
            .ok_or_else(|| error(&self.id, &format!("{:?} needs \"handle\": a handle name string", self.op)))
    }
    fn token(&self) -> Result<Token, Reply> {
        self.body
            .get("value")
            .and_then(Value::as_i64)
            .ok_or_else(|| error(&self.id, &format!("{:?} needs \"value\": an integer token", self.op)))
    }
    /// `None`: wait forever (absent or null); `Some(d)`: at most `d`.
    fn timeout(&self) -> Result<Option<Duration>, Reply> {
        match self.body.get("timeout") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .map(Some)
                .ok_or_else(|| error(&self.id, "\"timeout\" must be null or a number of seconds >= 0")),
        }
    }
}

enum Lookup {
    Open(Handle),
    Closed,
}

fn lookup(req: &Request) -> Result<Lookup, Reply> {
    let name = req.handle_name()?;
    match lock(&TABLE).handles.get(name) {
        None => Err(error(&req.id, &format!("no handle named {name:?}"))),
        Some(None) => Ok(Lookup::Closed),
        Some(Some(h)) => Ok(Lookup::Open(h.clone())),
    }
}

fn sender(req: &Request) -> Result<Option<Arc<Tx>>, Reply> {
    match lookup(req)? {
        Lookup::Closed => Ok(None),
        Lookup::Open(Handle::Sender(tx)) => Ok(Some(tx)),
        Lookup::Open(Handle::Receiver(_)) => Err(error(&req.id, &format!("{:?} needs a sender handle", req.op))),
    }
}

fn receiver(req: &Request) -> Result<Option<Arc<Rx>>, Reply> {
    match lookup(req)? {
        Lookup::Closed => Ok(None),
        Lookup::Open(Handle::Receiver(rx)) => Ok(Some(rx)),
        Lookup::Open(Handle::Sender(_)) => Err(error(&req.id, &format!("{:?} needs the receiver handle", req.op))),
    }
}

/// Run one operation on the current thread. Every `Arc` taken from the table is dropped when
/// this returns, before the reply is written (see the module comment).
fn perform(req: &Request) -> Result<Reply, Reply> {
    let id = req.id.as_str();
    let reply = match req.op.as_str() {
        "send" => {
            let token = req.token()?;
            let timeout = req.timeout()?;
            let Some(tx) = sender(req)? else { return Ok(Reply::new(id, "closed").value(token)) };
            match (&*tx, timeout) {
                (Tx::Unbounded(s), _) => match s.send(token) {
                    Ok(()) => Reply::new(id, "ok"),
                    Err(e) => Reply::new(id, "disconnected").value(e.0),
                },
                (Tx::Bounded(s), None) => match s.send(token) {
                    Ok(()) => Reply::new(id, "ok"),
                    Err(e) => Reply::new(id, "disconnected").value(e.0),
                },
                (Tx::Bounded(_), Some(_)) => Reply::new(id, "unsupported")
                    .value(token)
                    .message("send_timeout: std's SyncSender has no send with a timeout"),
            }
        }
        "try_send" => {
            let token = req.token()?;
            let Some(tx) = sender(req)? else { return Ok(Reply::new(id, "closed").value(token)) };
            let result = match &*tx {
                // The unbounded channel is never full: its send is the non-blocking attempt.
                Tx::Unbounded(s) => s.send(token).map_err(|e| TrySendError::Disconnected(e.0)),
                Tx::Bounded(s) => s.try_send(token),
            };
            match result {
                Ok(()) => Reply::new(id, "ok"),
                Err(TrySendError::Full(t)) => Reply::new(id, "full").value(t),
                Err(TrySendError::Disconnected(t)) => Reply::new(id, "disconnected").value(t),
            }
        }
        "recv" => {
            let timeout = req.timeout()?;
            let Some(rx) = receiver(req)? else { return Ok(Reply::new(id, "closed")) };
            match timeout {
                None => match lock(&rx).recv() {
                    Ok(t) => Reply::new(id, "got").value(t),
                    Err(_) => Reply::new(id, "disconnected"),
                },
                Some(limit) => recv_timeout(id, &rx, limit),
            }
        }
        "try_recv" => {
            let Some(rx) = receiver(req)? else { return Ok(Reply::new(id, "closed")) };
            let result = match rx.try_lock() {
                Ok(guard) => guard.try_recv(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().try_recv(),
                // Another thread is inside recv: waiting, so nothing is there for us either.
                Err(TryLockError::WouldBlock) => Err(TryRecvError::Empty),
            };
            match result {
                Ok(t) => Reply::new(id, "got").value(t),
                Err(TryRecvError::Empty) => Reply::new(id, "empty"),
                Err(TryRecvError::Disconnected) => Reply::new(id, "disconnected"),
            }
        }
        "clone" => {
            let Some(tx) = sender(req)? else { return Ok(Reply::new(id, "closed")) };
            let copy = Handle::Sender(Arc::new(tx.duplicate()));
            let mut table = lock(&TABLE);
            table.senders_made += 1;
            let name = format!("s{}", table.senders_made - 1);
            table.handles.insert(name.clone(), Some(copy));
            Reply::new(id, "sender").with("handle", quote(&name))
        }
        "close" => {
            let name = req.handle_name()?;
            let taken = {
                let mut table = lock(&TABLE);
                match table.handles.get_mut(name) {
                    None => return Err(error(id, &format!("no handle named {name:?}"))),
                    Some(slot) => slot.take(),
                }
            };
            drop(taken); // outside the table lock: dropping may wake other threads
            Reply::new(id, "ok")
        }
        other => return Err(error(id, &format!("unknown op {other:?}"))),
    };
    Ok(reply)
}

/// `recv` with a timeout through the shared receiver: wait for the lock no longer than the
/// timeout, then for a message no longer than what is left of it.
fn recv_timeout(id: &str, rx: &Rx, limit: Duration) -> Reply {
    let deadline = Instant::now().checked_add(limit);
    let guard = loop {
        match rx.try_lock() {
            Ok(g) => break g,
            Err(TryLockError::Poisoned(p)) => break p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Reply::new(id, "timeout");
                }
                thread::sleep(Duration::from_micros(200));
            }
        }
    };
    let left = deadline.map_or(limit, |d| d.saturating_duration_since(Instant::now()));
    match guard.recv_timeout(left) {
        Ok(t) => Reply::new(id, "got").value(t),
        Err(RecvTimeoutError::Timeout) => Reply::new(id, "timeout"),
        Err(RecvTimeoutError::Disconnected) => Reply::new(id, "disconnected"),
    }
}

/// Perform one request and render its reply line (written by the caller).
fn run(req: Request) -> String {
    let start = now_ns();
    let reply = perform(&req).unwrap_or_else(|e| e);
    let end = now_ns();
    let reply = if reply.outcome == "error" {
        reply
    } else {
        reply.with("start_ns", start.to_string()).with("end_ns", end.to_string())
    };
    reply.render()
}

/// A protocol thread: runs its requests one at a time, in order.
struct Worker {
    slot: Mutex<WorkerState>,
    ready: Condvar,
}

struct WorkerState {
    next: Option<Request>,
    busy: bool, // a request was handed over and its reply is not written yet
}

fn spawn_worker(name: &str) -> Arc<Worker> {
    let worker = Arc::new(Worker { slot: Mutex::new(WorkerState { next: None, busy: false }), ready: Condvar::new() });
    let w = Arc::clone(&worker);
    thread::Builder::new()
        .name(format!("driver-{name}"))
        .spawn(move || loop {
            let req = {
                let mut state = lock(&w.slot);
                loop {
                    if let Some(req) = state.next.take() {
                        break req;
                    }
                    state = w.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                }
            };
            let line = run(req);
            // Free the thread *before* the reply goes out: the Python side sends this thread's
            // next request as soon as it reads the reply, and must not find it still busy.
            lock(&w.slot).busy = false;
            write_line(&line);
        })
        .expect("spawning a thread");
    worker
}

/// Create the channel: the first request, handled on the main thread.
fn new_channel(req: &Request, made: &mut bool) -> Reply {
    if *made {
        return error(&req.id, "\"new\" was already sent; one driver process serves one channel");
    }
    let (tx, rx) = match req.body.get("capacity") {
        None | Some(Value::Null) => {
            let (tx, rx) = mpsc::channel();
            (Tx::Unbounded(tx), rx)
        }
        Some(v) => match v.as_i64().and_then(|k| usize::try_from(k).ok()) {
            Some(k) => {
                let (tx, rx) = mpsc::sync_channel(k);
                (Tx::Bounded(tx), rx)
            }
            None => return error(&req.id, "\"capacity\" must be null or an integer >= 0"),
        },
    };
    let mut table = lock(&TABLE);
    table.handles.insert("s0".into(), Some(Handle::Sender(Arc::new(tx))));
    table.handles.insert("r0".into(), Some(Handle::Receiver(Arc::new(Mutex::new(rx)))));
    table.senders_made = 1;
    *made = true;
    Reply::new(&req.id, "channel").with("sender", quote("s0")).with("receiver", quote("r0"))
}

fn parse_request(line: &str) -> Result<(Request, String), Reply> {
    let body = json::parse(line).map_err(|e| error("null", &format!("bad JSON ({e}): {line}")))?;
    let id = match body.get("id") {
        Some(v @ Value::Number(_)) if v.as_i64().is_some() => v.as_i64().unwrap().to_string(),
        _ => return Err(error("null", &format!("request without an integer \"id\": {line}"))),
    };
    let Some(op) = body.get("op").and_then(Value::as_str).map(str::to_string) else {
        return Err(error(&id, "request without a string \"op\""));
    };
    let thread = body.get("thread").and_then(Value::as_str).unwrap_or("").to_string();
    Ok((Request { id, op, body }, thread))
}

fn main() {
    EPOCH.get_or_init(Instant::now);
    write_line(&hello());
    let mut workers: HashMap<String, Arc<Worker>> = HashMap::new();
    let mut made = false;
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (req, thread) = match parse_request(&line) {
            Ok(parsed) => parsed,
            Err(reply) => {
                write_line(&reply.render());
                continue;
            }
        };
        match req.op.as_str() {
            // Exit at once, even with threads blocked in the library: never join them.
            "quit" => std::process::exit(0),
            "new" => write_line(&new_channel(&req, &mut made).render()),
            _ if !made => write_line(&error(&req.id, "the first request must be \"new\"").render()),
            _ if thread.is_empty() => write_line(&error(&req.id, "request without a \"thread\" name").render()),
            _ => {
                let worker = workers.entry(thread.clone()).or_insert_with(|| spawn_worker(&thread));
                let mut state = lock(&worker.slot);
                if state.busy {
                    drop(state);
                    let text = format!("thread {thread:?} still has a request outstanding");
                    write_line(&error(&req.id, &text).render());
                } else {
                    state.busy = true;
                    state.next = Some(req);
                    worker.ready.notify_one();
                }
            }
        }
    }
    // End of stdin: the Python side is gone or done. Exit without waiting for blocked threads.
    std::process::exit(0);
}
