//! mpsc-driver/1 for crossbeam-channel: one process serves one channel, requests arrive as JSON
//! lines on stdin, replies leave as JSON lines on stdout (drivers/PROTOCOL.md).
//!
//! `unbounded()`, `bounded(k)` and `bounded(0)` are the three capacities; every operation is the
//! library's own (`send`, `send_timeout`, `try_send`, `recv`, `recv_timeout`, `try_recv`, `clone`,
//! drop).  Each protocol thread is an OS thread fed by a queue, so a blocked call really blocks.
//!
//! Why CLOSE_WHILE_BLOCKED is missing: a handle used by a blocked call is borrowed by that call,
//! and Rust cannot drop it until the call returns.  The table holds each handle in an `Arc` and a
//! call clones the `Arc` for its duration, so "close" removes the name at once and the library
//! handle is dropped when the last call through it ends (at once when none is in progress).

use crossbeam_channel::{self as cb, RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

type Tx = Arc<cb::Sender<Value>>;
type Rx = Arc<cb::Receiver<Value>>;

/// Timeouts beyond this many seconds wait forever (the Python side may send huge ones).
const FOREVER: f64 = 1e9;

/// The handle table: name -> handle, `None` once closed (closing is idempotent).
#[derive(Default)]
struct Table {
    created: bool,
    senders: HashMap<String, Option<Tx>>,
    receiver: Option<Rx>,
    receiver_name: String,
    next_sender: usize,
}

static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn table() -> std::sync::MutexGuard<'static, Table> {
    TABLE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Writes one reply line whole and flushes it; a closed stdout means the parent is gone.
fn write_line(value: &Value) {
    let mut out = io::stdout().lock();
    if writeln!(out, "{value}").and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}

fn reply(outcome: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("outcome".into(), json!(outcome));
    m
}

fn with(outcome: &str, key: &str, value: Value) -> Map<String, Value> {
    let mut m = reply(outcome);
    m.insert(key.into(), value);
    m
}

fn str_field<'a>(req: &'a Value, key: &str) -> Result<&'a str, String> {
    req.get(key).and_then(Value::as_str).ok_or_else(|| format!("\"{key}\" must be a string"))
}

fn value_field(req: &Value) -> Result<Value, String> {
    match req.get("value") {
        Some(v) if v.is_i64() || v.is_u64() => Ok(v.clone()),
        _ => Err("\"value\" must be an integer token".into()),
    }
}

/// `None` waits forever; `Some(d)` gives up after `d` (zero: one attempt).
fn timeout_field(req: &Value) -> Result<Option<Duration>, String> {
    match req.get("timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(s) if s >= FOREVER => Ok(None),
            Some(s) if s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
            _ => Err("\"timeout\" must be null or a number of seconds >= 0".into()),
        },
    }
}

/// Looks a sender up: `Ok(None)` if it was closed, an error if it never existed.
fn sender(name: &str) -> Result<Option<Tx>, String> {
    let t = table();
    match t.senders.get(name) {
        Some(h) => Ok(h.clone()),
        None => Err(format!("no sender handle named {name:?}")),
    }
}

fn receiver(name: &str) -> Result<Option<Rx>, String> {
    let t = table();
    if !t.created || name != t.receiver_name {
        return Err(format!("no receiver handle named {name:?}"));
    }
    Ok(t.receiver.clone())
}

fn new_channel(req: &Value) -> Result<Map<String, Value>, String> {
    let (tx, rx) = match req.get("capacity") {
        None | Some(Value::Null) => cb::unbounded(),
        Some(c) => match c.as_u64() {
            Some(k) => cb::bounded(k as usize),
            None => return Err("\"capacity\" must be null or an integer >= 0".into()),
        },
    };
    let mut t = table();
    if t.created {
        return Err("\"new\" was already done: one driver process serves one channel".into());
    }
    t.created = true;
    t.senders.insert("s0".into(), Some(Arc::new(tx)));
    t.next_sender = 1;
    t.receiver = Some(Arc::new(rx));
    t.receiver_name = "r0".into();
    let mut m = reply("channel");
    m.insert("sender".into(), json!("s0"));
    m.insert("receiver".into(), json!("r0"));
    Ok(m)
}

/// Runs one request (on its protocol thread) and returns the reply without its id.
fn perform(req: &Value, op: &str) -> Result<Map<String, Value>, String> {
    if op == "new" {
        return new_channel(req);
    }
    if !table().created {
        return Err("no channel yet: the first request must be \"new\"".into());
    }
    let handle = str_field(req, "handle")?;
    match op {
        "send" | "try_send" => {
            let v = value_field(req)?;
            let timeout = if op == "send" { timeout_field(req)? } else { None };
            let Some(tx) = sender(handle)? else { return Ok(with("closed", "value", v)) };
            Ok(match op {
                "try_send" => match tx.try_send(v) {
                    Ok(()) => reply("ok"),
                    Err(TrySendError::Full(v)) => with("full", "value", v),
                    Err(TrySendError::Disconnected(v)) => with("disconnected", "value", v),
                },
                _ => match timeout {
                    None => match tx.send(v) {
                        Ok(()) => reply("ok"),
                        Err(cb::SendError(v)) => with("disconnected", "value", v),
                    },
                    Some(d) => match tx.send_timeout(v, d) {
                        Ok(()) => reply("ok"),
                        Err(SendTimeoutError::Timeout(v)) => with("timeout", "value", v),
                        Err(SendTimeoutError::Disconnected(v)) => with("disconnected", "value", v),
                    },
                },
            })
        }
        "recv" | "try_recv" => {
            let timeout = if op == "recv" { timeout_field(req)? } else { None };
            let Some(rx) = receiver(handle)? else { return Ok(reply("closed")) };
            Ok(match op {
                "try_recv" => match rx.try_recv() {
                    Ok(v) => with("got", "value", v),
                    Err(TryRecvError::Empty) => reply("empty"),
                    Err(TryRecvError::Disconnected) => reply("disconnected"),
                },
                _ => match timeout {
                    None => match rx.recv() {
                        Ok(v) => with("got", "value", v),
                        Err(cb::RecvError) => reply("disconnected"),
                    },
                    Some(d) => match rx.recv_timeout(d) {
                        Ok(v) => with("got", "value", v),
                        Err(RecvTimeoutError::Timeout) => reply("timeout"),
                        Err(RecvTimeoutError::Disconnected) => reply("disconnected"),
                    },
                },
            })
        }
        "clone" => {
            let Some(tx) = sender(handle)? else { return Ok(reply("closed")) };
            let mut t = table();
            let name = format!("s{}", t.next_sender);
            t.next_sender += 1;
            t.senders.insert(name.clone(), Some(Arc::new((*tx).clone())));
            Ok(with("sender", "handle", json!(name)))
        }
        "close" => close(handle),
        _ => Err(format!("unknown op {op:?}")),
    }
}

/// Drops the library handle.  A call in progress through it holds its own `Arc` (see the top),
/// so then the drop happens when that call ends; every call releases its `Arc` before replying.
fn close(handle: &str) -> Result<Map<String, Value>, String> {
    let mut t = table();
    if let Some(slot) = t.senders.get_mut(handle) {
        let dropped = slot.take();
        drop(t); // drop the handle outside the table lock: it may wake other threads
        drop(dropped);
        return Ok(reply("ok"));
    }
    if t.created && handle == t.receiver_name {
        let dropped = t.receiver.take();
        drop(t);
        drop(dropped);
        return Ok(reply("ok"));
    }
    Err(format!("no handle named {handle:?}"))
}

/// Runs one request on this protocol thread and writes its reply.
fn serve(req: Value, busy: &AtomicBool) {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let op = req.get("op").and_then(Value::as_str).unwrap_or("").to_string();
    let start = now_ns();
    // A panic is a driver bug: report it as this request's error rather than never replying.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| perform(&req, &op)))
        .unwrap_or_else(|_| Err("driver bug: the call panicked (see the driver's stderr)".into()));
    let end = now_ns();
    let mut m = result.unwrap_or_else(|message| with("error", "message", json!(message)));
    m.insert("id".into(), id);
    m.insert("start_ns".into(), json!(start));
    m.insert("end_ns".into(), json!(end));
    busy.store(false, Ordering::SeqCst); // before the reply: the next request may follow at once
    write_line(&Value::Object(m));
}

fn hello() -> Value {
    json!({
        "protocol": "mpsc-driver/1",
        "name": "crossbeam",
        "language": "rust",
        "library": "crossbeam-channel",
        "version": env!("LIBRARY_VERSION"),
        "offers": {
            "capacities": {"unbounded": true, "bounded": true, "rendezvous": true},
            "missing": ["close_while_blocked"],
            "deviations": [],
        },
    })
}

fn error_line(id: Value, message: String) {
    write_line(&json!({"id": id, "outcome": "error", "message": message}));
}

fn main() {
    now_ns();
    write_line(&hello());
    let mut threads: HashMap<String, (mpsc::Sender<Value>, Arc<AtomicBool>)> = HashMap::new();
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let req: Value = match serde_json::from_str(&line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => { error_line(Value::Null, "a request must be a JSON object".into()); continue }
            Err(e) => { error_line(Value::Null, format!("not JSON: {e}")); continue }
        };
        let id = match req.get("id") {
            Some(id) if id.is_i64() || id.is_u64() => id.clone(),
            _ => { error_line(Value::Null, "\"id\" must be an integer".into()); continue }
        };
        match req.get("op").and_then(Value::as_str) {
            Some("quit") => std::process::exit(0),
            Some(_) => {}
            None => { error_line(id, "\"op\" must be a string".into()); continue }
        }
        let Some(name) = req.get("thread").and_then(Value::as_str).map(str::to_string) else {
            error_line(id, "\"thread\" must be a string".into());
            continue;
        };
        let (queue, busy) = threads.entry(name.clone()).or_insert_with(|| {
            let (queue, requests) = mpsc::channel::<Value>();
            let busy = Arc::new(AtomicBool::new(false));
            let flag = busy.clone();
            std::thread::Builder::new()
                .name(name)
                .spawn(move || requests.into_iter().for_each(|r| serve(r, &flag)))
                .expect("spawn a protocol thread");
            (queue, busy)
        });
        if busy.swap(true, Ordering::SeqCst) {
            error_line(id, "this thread still has a request outstanding".into());
            continue;
        }
        queue.send(req).expect("protocol threads never exit");
    }
    std::process::exit(0);
}
