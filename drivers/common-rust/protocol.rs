//! The library-independent half of the serde_json Rust drivers (crossbeam, tokio): everything of
//! mpsc-driver/1 (drivers/PROTOCOL.md) except the channel calls themselves.  Each driver includes
//! this file with `#[path = "../../common-rust/protocol.rs"] mod protocol;`, implements
//! [`Library`] for its channel, and calls [`run`].  One source rather than a crate so that each
//! driver stays a single offline Cargo package (drivers/build).
//!
//! What lives here: the hello, reading and checking request lines, one OS thread per protocol
//! thread (fed by a queue, so a blocked call really blocks and other threads keep answering), the
//! handle table, and writing replies with their `start_ns`/`end_ns`.
//!
//! Handles: the table holds each handle in an `Arc` and a call clones the `Arc` for its duration,
//! because Rust cannot drop a handle that a blocked call borrows.  So "close" removes the name at
//! once and the library handle is dropped when the last call through it ends (at once when none is
//! in progress); that is why these drivers declare CLOSE_WHILE_BLOCKED missing.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Timeouts beyond this many seconds wait forever (the Python side may send huge ones).
const FOREVER: f64 = 1e9;

/// The driver-specific members of the hello line; the rest is the same for every driver.
pub struct Hello {
    pub name: &'static str,
    pub library: &'static str,
    pub version: &'static str,
    /// Whether capacity 0 is offered (unbounded and bounded always are).
    pub rendezvous: bool,
    /// Feature names as PROTOCOL.md spells them (`"close_while_blocked"`).
    pub missing: &'static [&'static str],
}

/// Why "new" made no channel.  Not every library refuses a capacity, hence the allow.
#[allow(dead_code)]
pub enum Refusal {
    /// A capacity the hello does not offer: answered `unsupported` with this message.
    Unsupported(&'static str),
    /// A capacity the library cannot take: answered `error` with [`Library::CAPACITY_ERROR`].
    Invalid,
}

/// How a send or try_send ended; the failures give the unsent value back.
pub enum Sent {
    Ok,
    Full(Value),
    Timeout(Value),
    Disconnected(Value),
}

/// How a recv or try_recv ended.
pub enum Received {
    Got(Value),
    Empty,
    Timeout,
    Disconnected,
}

/// The channel library under test: only its own calls, mapped to the protocol's outcomes.
pub trait Library: 'static {
    type Sender: Send + Sync + 'static;
    type Receiver: Send + Sync + 'static;
    const HELLO: Hello;
    /// The `error` message for a capacity that is not an integer >= 0 or that `open` calls invalid.
    const CAPACITY_ERROR: &'static str = "\"capacity\" must be null or an integer >= 0";
    /// Makes the channel: `None` is unbounded, `Some(0)` rendezvous, `Some(k)` bounded to k.
    fn open(capacity: Option<u64>) -> Result<(Self::Sender, Self::Receiver), Refusal>;
    /// `None` waits forever; `Some(d)` gives up after `d` (zero: one attempt).
    fn send(tx: &Self::Sender, value: Value, timeout: Option<Duration>) -> Sent;
    fn try_send(tx: &Self::Sender, value: Value) -> Sent;
    /// `None` waits forever; `Some(d)` gives up after `d` (zero: one attempt).
    fn recv(rx: &Self::Receiver, timeout: Option<Duration>) -> Received;
    fn try_recv(rx: &Self::Receiver) -> Received;
    fn clone_sender(tx: &Self::Sender) -> Self::Sender;
}

/// Serves one channel of `L` until stdin ends or a "quit" arrives; never returns.
pub fn run<L: Library>() -> ! {
    let driver = Arc::new(Driver::<L>::new());
    write_line(&hello(&L::HELLO));
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
            let (flag, driver) = (busy.clone(), driver.clone());
            std::thread::Builder::new()
                .name(name)
                .spawn(move || requests.into_iter().for_each(|r| driver.serve(r, &flag)))
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

fn hello(h: &Hello) -> Value {
    json!({
        "protocol": "mpsc-driver/1",
        "name": h.name,
        "language": "rust",
        "library": h.library,
        "version": h.version,
        "offers": {
            "capacities": {"unbounded": true, "bounded": true, "rendezvous": h.rendezvous},
            "missing": h.missing,
            "deviations": [],
        },
    })
}

/// Writes one reply line whole and flushes it; a closed stdout means the parent is gone.
fn write_line(value: &Value) {
    let mut out = io::stdout().lock();
    if writeln!(out, "{value}").and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}

fn error_line(id: Value, message: String) {
    write_line(&json!({"id": id, "outcome": "error", "message": message}));
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

impl Sent {
    fn into_reply(self) -> Map<String, Value> {
        match self {
            Sent::Ok => reply("ok"),
            Sent::Full(v) => with("full", "value", v),
            Sent::Timeout(v) => with("timeout", "value", v),
            Sent::Disconnected(v) => with("disconnected", "value", v),
        }
    }
}

impl Received {
    fn into_reply(self) -> Map<String, Value> {
        match self {
            Received::Got(v) => with("got", "value", v),
            Received::Empty => reply("empty"),
            Received::Timeout => reply("timeout"),
            Received::Disconnected => reply("disconnected"),
        }
    }
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

fn capacity_field<L: Library>(req: &Value) -> Result<Option<u64>, String> {
    match req.get("capacity") {
        None | Some(Value::Null) => Ok(None),
        Some(c) => c.as_u64().map(Some).ok_or_else(|| L::CAPACITY_ERROR.into()),
    }
}

/// The handle table: name -> handle, `None` once closed (closing is idempotent).
struct Table<L: Library> {
    created: bool,
    senders: HashMap<String, Option<Arc<L::Sender>>>,
    receiver: Option<Arc<L::Receiver>>,
    receiver_name: String,
    next_sender: usize,
}

/// What every protocol thread shares: the handle table and the clock's origin.
struct Driver<L: Library> {
    table: Mutex<Table<L>>,
    epoch: Instant,
}

impl<L: Library> Driver<L> {
    fn new() -> Self {
        let table = Table {
            created: false,
            senders: HashMap::new(),
            receiver: None,
            receiver_name: String::new(),
            next_sender: 0,
        };
        Driver { table: Mutex::new(table), epoch: Instant::now() }
    }

    fn table(&self) -> MutexGuard<'_, Table<L>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Runs one request on this protocol thread and writes its reply.
    fn serve(&self, req: Value, busy: &AtomicBool) {
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        let op = req.get("op").and_then(Value::as_str).unwrap_or("").to_string();
        let start = self.now_ns();
        // A panic is a driver bug: report it as this request's error rather than never replying.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.perform(&req, &op)))
            .unwrap_or_else(|_| Err("driver bug: the call panicked (see the driver's stderr)".into()));
        let end = self.now_ns();
        let mut m = result.unwrap_or_else(|message| with("error", "message", json!(message)));
        m.insert("id".into(), id);
        m.insert("start_ns".into(), json!(start));
        m.insert("end_ns".into(), json!(end));
        busy.store(false, Ordering::SeqCst); // before the reply: the next request may follow at once
        write_line(&Value::Object(m));
    }

    /// Runs one request (on its protocol thread) and returns the reply without its id.  The
    /// handle's `Arc` taken for the call is released before the reply is written.
    fn perform(&self, req: &Value, op: &str) -> Result<Map<String, Value>, String> {
        if op == "new" {
            return self.new_channel(req);
        }
        if !self.table().created {
            return Err("no channel yet: the first request must be \"new\"".into());
        }
        let handle = str_field(req, "handle")?;
        match op {
            "send" | "try_send" => {
                let v = value_field(req)?;
                let timeout = if op == "send" { timeout_field(req)? } else { None };
                let Some(tx) = self.sender(handle)? else { return Ok(with("closed", "value", v)) };
                let sent = if op == "send" { L::send(&tx, v, timeout) } else { L::try_send(&tx, v) };
                Ok(sent.into_reply())
            }
            "recv" | "try_recv" => {
                let timeout = if op == "recv" { timeout_field(req)? } else { None };
                let Some(rx) = self.receiver(handle)? else { return Ok(reply("closed")) };
                let received = if op == "recv" { L::recv(&rx, timeout) } else { L::try_recv(&rx) };
                Ok(received.into_reply())
            }
            "clone" => {
                let Some(tx) = self.sender(handle)? else { return Ok(reply("closed")) };
                let copy = Arc::new(L::clone_sender(&tx));
                let mut t = self.table();
                let name = format!("s{}", t.next_sender);
                t.next_sender += 1;
                t.senders.insert(name.clone(), Some(copy));
                Ok(with("sender", "handle", json!(name)))
            }
            "close" => self.close(handle),
            _ => Err(format!("unknown op {op:?}")),
        }
    }

    fn new_channel(&self, req: &Value) -> Result<Map<String, Value>, String> {
        let (tx, rx) = match L::open(capacity_field::<L>(req)?) {
            Ok(pair) => pair,
            Err(Refusal::Unsupported(message)) => return Ok(with("unsupported", "message", json!(message))),
            Err(Refusal::Invalid) => return Err(L::CAPACITY_ERROR.into()),
        };
        let mut t = self.table();
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

    /// Looks a sender up: `Ok(None)` if it was closed, an error if it never existed.
    fn sender(&self, name: &str) -> Result<Option<Arc<L::Sender>>, String> {
        match self.table().senders.get(name) {
            Some(h) => Ok(h.clone()),
            None => Err(format!("no sender handle named {name:?}")),
        }
    }

    fn receiver(&self, name: &str) -> Result<Option<Arc<L::Receiver>>, String> {
        let t = self.table();
        if !t.created || name != t.receiver_name {
            return Err(format!("no receiver handle named {name:?}"));
        }
        Ok(t.receiver.clone())
    }

    /// Drops the library handle, or only its name while a call through it is in progress (see
    /// the top): then the drop happens when that call ends.
    fn close(&self, handle: &str) -> Result<Map<String, Value>, String> {
        let mut t = self.table();
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
}
