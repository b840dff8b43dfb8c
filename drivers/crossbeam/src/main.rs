//! mpsc-driver/1 for crossbeam-channel: one process serves one channel, requests arrive as JSON
//! lines on stdin, replies leave as JSON lines on stdout (drivers/PROTOCOL.md).
//!
//! `unbounded()`, `bounded(k)` and `bounded(0)` are the three capacities; every operation is the
//! library's own (`send`, `send_timeout`, `try_send`, `recv`, `recv_timeout`, `try_recv`, `clone`,
//! drop).  The protocol itself (threads, handle table, replies) is drivers/common-rust/protocol.rs,
//! which also says why CLOSE_WHILE_BLOCKED is missing.

#[path = "../../common-rust/protocol.rs"]
mod protocol;

use crossbeam_channel::{self as cb, RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use protocol::{Hello, Library, Received, Refusal, Sent};
use serde_json::Value;
use std::time::Duration;

struct Crossbeam;

impl Library for Crossbeam {
    type Sender = cb::Sender<Value>;
    type Receiver = cb::Receiver<Value>;

    const HELLO: Hello = Hello {
        name: "crossbeam",
        library: "crossbeam-channel",
        version: env!("LIBRARY_VERSION"),
        rendezvous: true,
        missing: &["close_while_blocked"],
    };

    fn open(capacity: Option<u64>) -> Result<(Self::Sender, Self::Receiver), Refusal> {
        Ok(match capacity {
            None => cb::unbounded(),
            Some(k) => cb::bounded(k as usize),
        })
    }

    fn send(tx: &Self::Sender, v: Value, timeout: Option<Duration>) -> Sent {
        match timeout {
            None => match tx.send(v) {
                Ok(()) => Sent::Ok,
                Err(cb::SendError(v)) => Sent::Disconnected(v),
            },
            Some(d) => match tx.send_timeout(v, d) {
                Ok(()) => Sent::Ok,
                Err(SendTimeoutError::Timeout(v)) => Sent::Timeout(v),
                Err(SendTimeoutError::Disconnected(v)) => Sent::Disconnected(v),
            },
        }
    }

    fn try_send(tx: &Self::Sender, v: Value) -> Sent {
        match tx.try_send(v) {
            Ok(()) => Sent::Ok,
            Err(TrySendError::Full(v)) => Sent::Full(v),
            Err(TrySendError::Disconnected(v)) => Sent::Disconnected(v),
        }
    }

    fn recv(rx: &Self::Receiver, timeout: Option<Duration>) -> Received {
        match timeout {
            None => match rx.recv() {
                Ok(v) => Received::Got(v),
                Err(cb::RecvError) => Received::Disconnected,
            },
            Some(d) => match rx.recv_timeout(d) {
                Ok(v) => Received::Got(v),
                Err(RecvTimeoutError::Timeout) => Received::Timeout,
                Err(RecvTimeoutError::Disconnected) => Received::Disconnected,
            },
        }
    }

    fn try_recv(rx: &Self::Receiver) -> Received {
        match rx.try_recv() {
            Ok(v) => Received::Got(v),
            Err(TryRecvError::Empty) => Received::Empty,
            Err(TryRecvError::Disconnected) => Received::Disconnected,
        }
    }

    fn clone_sender(tx: &Self::Sender) -> Self::Sender {
        tx.clone()
    }
}

fn main() {
    protocol::run::<Crossbeam>()
}
