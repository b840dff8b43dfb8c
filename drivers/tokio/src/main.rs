//! mpsc-driver/1 for tokio::sync::mpsc: one process serves one channel, requests arrive as JSON
//! lines on stdin, replies leave as JSON lines on stdout (drivers/PROTOCOL.md).  The protocol
//! itself (threads, handle table, replies) is drivers/common-rust/protocol.rs; this file is only
//! the calls into tokio.
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
//! CLOSE_WHILE_BLOCKED is missing for the reason protocol.rs gives: a handle borrowed by a blocked
//! call cannot be dropped, so "close" removes the name and the drop happens when that call ends.

#[path = "../../common-rust/protocol.rs"]
mod protocol;

use protocol::{Hello, Library, Received, Refusal, Sent};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
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

thread_local! {
    /// This thread's runtime for calls with a timeout (tokio's timers need one).
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime");
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

fn got(v: Option<Value>) -> Received {
    match v {
        Some(v) => Received::Got(v),
        None => Received::Disconnected,
    }
}

struct Tokio;

impl Library for Tokio {
    type Sender = Sender;
    type Receiver = RxSlot;

    const HELLO: Hello = Hello {
        name: "tokio",
        library: "tokio::sync::mpsc",
        version: env!("LIBRARY_VERSION"),
        rendezvous: false,
        missing: &["close_while_blocked"],
    };
    const CAPACITY_ERROR: &'static str = "\"capacity\" must be null or an integer >= 0 (at most usize::MAX >> 3)";

    fn open(capacity: Option<u64>) -> Result<(Sender, RxSlot), Refusal> {
        let (tx, rx) = match capacity {
            None => {
                let (tx, rx) = tm::unbounded_channel();
                (Sender::Unbounded(tx), Receiver::Unbounded(rx))
            }
            Some(0) => {
                return Err(Refusal::Unsupported("tokio::sync::mpsc has no rendezvous channel (channel(0) panics)"))
            }
            Some(k) if k <= (usize::MAX >> 3) as u64 => {
                let (tx, rx) = tm::channel(k as usize);
                (Sender::Bounded(tx), Receiver::Bounded(rx))
            }
            Some(_) => return Err(Refusal::Invalid),
        };
        Ok((tx, RxSlot { rx: Mutex::new(rx), parked: AtomicBool::new(false) }))
    }

    fn send(tx: &Sender, v: Value, timeout: Option<Duration>) -> Sent {
        match tx {
            Sender::Unbounded(tx) => match tx.send(v) {
                Ok(()) => Sent::Ok,
                Err(tm::error::SendError(v)) => Sent::Disconnected(v),
            },
            Sender::Bounded(tx) => match timeout {
                None => match tx.blocking_send(v) {
                    Ok(()) => Sent::Ok,
                    Err(tm::error::SendError(v)) => Sent::Disconnected(v),
                },
                Some(d) => match RUNTIME.with(|rt| rt.block_on(tx.send_timeout(v, d))) {
                    Ok(()) => Sent::Ok,
                    Err(SendTimeoutError::Timeout(v)) => Sent::Timeout(v),
                    Err(SendTimeoutError::Closed(v)) => Sent::Disconnected(v),
                },
            },
        }
    }

    fn try_send(tx: &Sender, v: Value) -> Sent {
        let result = match tx {
            Sender::Unbounded(tx) => tx.send(v).map_err(|tm::error::SendError(v)| TrySendError::Closed(v)),
            Sender::Bounded(tx) => tx.try_send(v),
        };
        match result {
            Ok(()) => Sent::Ok,
            Err(TrySendError::Full(v)) => Sent::Full(v),
            Err(TrySendError::Closed(v)) => Sent::Disconnected(v),
        }
    }

    fn recv(slot: &RxSlot, timeout: Option<Duration>) -> Received {
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
        let Some(mut rx) = lock_until(slot, deadline) else { return Received::Timeout };
        let left = deadline.saturating_duration_since(Instant::now());
        slot.parked.store(true, Ordering::SeqCst);
        let result = RUNTIME.with(|rt| match &mut *rx {
            Receiver::Bounded(rx) => rt.block_on(async { tokio::time::timeout(left, rx.recv()).await }),
            Receiver::Unbounded(rx) => rt.block_on(async { tokio::time::timeout(left, rx.recv()).await }),
        });
        slot.parked.store(false, Ordering::SeqCst);
        match result {
            Ok(v) => got(v),
            Err(_elapsed) => Received::Timeout,
        }
    }

    fn try_recv(slot: &RxSlot) -> Received {
        let mut rx = match slot.rx.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) if slot.parked.load(Ordering::SeqCst) => return Received::Empty,
            Err(TryLockError::WouldBlock) => lock(slot),
        };
        let result = match &mut *rx {
            Receiver::Bounded(rx) => rx.try_recv(),
            Receiver::Unbounded(rx) => rx.try_recv(),
        };
        match result {
            Ok(v) => Received::Got(v),
            Err(TryRecvError::Empty) => Received::Empty,
            Err(TryRecvError::Disconnected) => Received::Disconnected,
        }
    }

    fn clone_sender(tx: &Sender) -> Sender {
        match tx {
            Sender::Bounded(tx) => Sender::Bounded(tx.clone()),
            Sender::Unbounded(tx) => Sender::Unbounded(tx.clone()),
        }
    }
}

fn main() {
    protocol::run::<Tokio>()
}
