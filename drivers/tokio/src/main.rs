//! mpsc-driver/1 for tokio::sync::mpsc: one process serves one channel, requests arrive as JSON
//! lines on stdin, replies leave as JSON lines on stdout (drivers/PROTOCOL.md).
//!
//! `unbounded_channel()` and `channel(k)` for k > 0; tokio has no rendezvous channel (`channel(0)`
//! panics), so the hello declares none and "new" with capacity 0 answers "unsupported".  Protocol
//! threads are plain OS threads, so blocking calls are the library's `blocking_send` and
//! `blocking_recv`; calls with a timeout are the library's `send_timeout` and `time::timeout`
//! around `recv`, run on a current-thread runtime owned by the calling thread.
//!
//! Handles: tokio's `Receiver::recv` takes `&mut self`, so the receiver sits behind a mutex.  The
//! protocol lets two threads use the one receiver (rule 12); while one is parked in `recv`, a
//! `try_recv` from another answers "empty" (the parked call is first in line, so that is what the
//! model says too) and a `recv` with a timeout waits for the mutex within its timeout.
//! CLOSE_WHILE_BLOCKED is missing for the reason the crossbeam driver gives: a handle borrowed by a
//! blocked call cannot be dropped, so "close" removes the name and the drop happens when that call
//! ends.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc as tm;
use tokio::sync::mpsc::error::{SendTimeoutError, TryRecvError, TrySendError};

enum Sender {
    Bounded(tm::Sender<Value>),
    Unbounded(tm::UnboundedSender<Value>),
}

enum Receiver {
    Bounded(tm::Receiver<Value>),
    Unbounded(tm::UnboundedReceiver<Value>),
}

/// The receiver, and whether a thread holding it is parked in a blocking wait.
struct RxSlot {
    rx: Mutex<Receiver>,
    parked: AtomicBool,
}

type Tx = Arc<Sender>;
type Rx = Arc<RxSlot>;

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

thread_local! {
    /// This thread's runtime for calls with a timeout (tokio's timers need one).
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime");
}

fn new_channel(req: &Value) -> Result<Map<String, Value>, String> {
    let (tx, rx) = match req.get("capacity") {
        None | Some(Value::Null) => {
            let (tx, rx) = tm::unbounded_channel();
            (Sender::Unbounded(tx), Receiver::Unbounded(rx))
        }
        Some(c) => match c.as_u64() {
            Some(0) => {
                return Ok(with("unsupported", "message",
                               json!("tokio::sync::mpsc has no rendezvous channel (channel(0) panics)")))
            }
            Some(k) if k <= (usize::MAX >> 3) as u64 => {
                let (tx, rx) = tm::channel(k as usize);
                (Sender::Bounded(tx), Receiver::Bounded(rx))
            }
            _ => return Err("\"capacity\" must be null or an integer >= 0 (at most usize::MAX >> 3)".into()),
        },
    };
    let mut t = table();
    if t.created {
        return Err("\"new\" was already done: one driver process serves one channel".into());
    }
    t.created = true;
    t.senders.insert("s0".into(), Some(Arc::new(tx)));
    t.next_sender = 1;
    t.receiver = Some(Arc::new(RxSlot { rx: Mutex::new(rx), parked: AtomicBool::new(false) }));
    t.receiver_name = "r0".into();
    let mut m = reply("channel");
    m.insert("sender".into(), json!("s0"));
    m.insert("receiver".into(), json!("r0"));
    Ok(m)
}

fn lock(slot: &RxSlot) -> MutexGuard<'_, Receiver> {
    slot.rx.lock().unwrap_or_else(|e| e.into_inner())
}

/// The receiver for a call with this deadline, or `None` if another thread holds it for longer.
fn lock_until(slot: &RxSlot, deadline: Instant) -> Option<MutexGuard<'_, Receiver>> {
    loop {
        match slot.rx.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(e)) => return Some(e.into_inner()),
            Err(TryLockError::WouldBlock) if Instant::now() >= deadline => return None,
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

fn send(tx: &Sender, v: Value, timeout: Option<Duration>) -> Map<String, Value> {
    match tx {
        Sender::Unbounded(tx) => match tx.send(v) {
            Ok(()) => reply("ok"),
            Err(tm::error::SendError(v)) => with("disconnected", "value", v),
        },
        Sender::Bounded(tx) => match timeout {
            None => match tx.blocking_send(v) {
                Ok(()) => reply("ok"),
                Err(tm::error::SendError(v)) => with("disconnected", "value", v),
            },
            Some(d) => match RUNTIME.with(|rt| rt.block_on(tx.send_timeout(v, d))) {
                Ok(()) => reply("ok"),
                Err(SendTimeoutError::Timeout(v)) => with("timeout", "value", v),
                Err(SendTimeoutError::Closed(v)) => with("disconnected", "value", v),
            },
        },
    }
}

fn try_send(tx: &Sender, v: Value) -> Map<String, Value> {
    let result = match tx {
        Sender::Unbounded(tx) => tx.send(v).map_err(|tm::error::SendError(v)| TrySendError::Closed(v)),
        Sender::Bounded(tx) => tx.try_send(v),
    };
    match result {
        Ok(()) => reply("ok"),
        Err(TrySendError::Full(v)) => with("full", "value", v),
        Err(TrySendError::Closed(v)) => with("disconnected", "value", v),
    }
}

fn got(v: Option<Value>) -> Map<String, Value> {
    match v {
        Some(v) => with("got", "value", v),
        None => reply("disconnected"),
    }
}

fn recv(slot: &RxSlot, timeout: Option<Duration>) -> Map<String, Value> {
    let Some(d) = timeout else {
        let mut rx = lock(slot);
        slot.parked.store(true, Ordering::SeqCst);
        let v = match &mut *rx {
            Receiver::Bounded(rx) => rx.blocking_recv(),
            Receiver::Unbounded(rx) => rx.blocking_recv(),
        };
        slot.parked.store(false, Ordering::SeqCst);
        return got(v);
    };
    let deadline = Instant::now() + d;
    let Some(mut rx) = lock_until(slot, deadline) else { return reply("timeout") };
    let left = deadline.saturating_duration_since(Instant::now());
    slot.parked.store(true, Ordering::SeqCst);
    let result = RUNTIME.with(|rt| match &mut *rx {
        Receiver::Bounded(rx) => rt.block_on(async { tokio::time::timeout(left, rx.recv()).await }),
        Receiver::Unbounded(rx) => rt.block_on(async { tokio::time::timeout(left, rx.recv()).await }),
    });
    slot.parked.store(false, Ordering::SeqCst);
    match result {
        Ok(v) => got(v),
        Err(_elapsed) => reply("timeout"),
    }
}

fn try_recv(slot: &RxSlot) -> Map<String, Value> {
    let mut rx = match slot.rx.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        Err(TryLockError::WouldBlock) if slot.parked.load(Ordering::SeqCst) => return reply("empty"),
        Err(TryLockError::WouldBlock) => lock(slot),
    };
    let result = match &mut *rx {
        Receiver::Bounded(rx) => rx.try_recv(),
        Receiver::Unbounded(rx) => rx.try_recv(),
    };
    match result {
        Ok(v) => with("got", "value", v),
        Err(TryRecvError::Empty) => reply("empty"),
        Err(TryRecvError::Disconnected) => reply("disconnected"),
    }
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
        "send" => {
            let (v, timeout) = (value_field(req)?, timeout_field(req)?);
            Ok(match sender(handle)? {
                Some(tx) => send(&tx, v, timeout),
                None => with("closed", "value", v),
            })
        }
        "try_send" => {
            let v = value_field(req)?;
            Ok(match sender(handle)? {
                Some(tx) => try_send(&tx, v),
                None => with("closed", "value", v),
            })
        }
        "recv" => {
            let timeout = timeout_field(req)?;
            Ok(receiver(handle)?.map_or_else(|| reply("closed"), |rx| recv(&rx, timeout)))
        }
        "try_recv" => Ok(receiver(handle)?.map_or_else(|| reply("closed"), |rx| try_recv(&rx))),
        "clone" => {
            let Some(tx) = sender(handle)? else { return Ok(reply("closed")) };
            let copy = match &*tx {
                Sender::Bounded(tx) => Sender::Bounded(tx.clone()),
                Sender::Unbounded(tx) => Sender::Unbounded(tx.clone()),
            };
            let mut t = table();
            let name = format!("s{}", t.next_sender);
            t.next_sender += 1;
            t.senders.insert(name.clone(), Some(Arc::new(copy)));
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
        "name": "tokio",
        "language": "rust",
        "library": "tokio::sync::mpsc",
        "version": env!("LIBRARY_VERSION"),
        "offers": {
            "capacities": {"unbounded": true, "bounded": true, "rendezvous": false},
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
