"""The seed program, in Python: two producers with cloned senders, the original dropped,
and the consumer collecting until disconnection.

    python examples/producers.py                       # the condition-based channel
    python examples/producers.py impls.queue_based:channel --capacity 1

Mirrors the Rust ``mpsc`` example the project started from: without ``tx.close()`` after
cloning, the consumer's ``for`` loop would never end.
"""

from __future__ import annotations

import argparse
import importlib
import threading
import time


def producer(tx, label: str, n: int, delay: float) -> threading.Thread:  # type: ignore[no-untyped-def]
    def run() -> None:
        with tx:  # this producer's sender is closed ("dropped") when it is done
            for i in range(1, n + 1):
                time.sleep(delay)
                tx.send(f"{label}-{i}")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="impls.condition_based:channel")
    parser.add_argument("--capacity", type=lambda s: None if s == "None" else int(s), default=None)
    args = parser.parse_args()
    module, _, name = args.target.partition(":")
    channel = getattr(importlib.import_module(module), name)

    tx, rx = channel(args.capacity)
    threads = [producer(tx.clone(), "A", 3, 0.010), producer(tx.clone(), "B", 3, 0.015)]
    tx.close()  # drop the original: without this, the loop below would wait forever
    messages = sorted(rx)  # blocks until every sender is closed
    for thread in threads:
        thread.join()
    for m in messages:
        print(f"Recv: {m}")
    print(f"Total: {len(messages)}")


if __name__ == "__main__":
    main()
