// Command mpsc-driver-go is the mpsc-driver/1 driver for Go channels (drivers/PROTOCOL.md): one
// process serves one channel, requests arrive as JSON lines on stdin, replies leave as JSON lines
// on stdout. Standard library only.
//
// make(chan T) is the rendezvous channel and make(chan T, k) the bounded one; Go has no unbounded
// channel. Blocking calls are plain channel operations, try_ calls are a select with a default, and
// calls with a timeout are a select with a timer. Each protocol thread is a goroutine.
//
// Go has no sender or receiver handles, so the handles are this driver's bookkeeping:
//   - close belongs to one owner in Go (closing twice, or sending on a closed channel, panics), so
//     the driver counts open senders and calls close(ch) when the last one closes: that is the
//     disconnection, and receivers then drain the buffer and see ok == false, as the model says;
//   - there is no receiver close at all (a Go receiver just stops receiving), so close_receiver is
//     missing, and with it every way for a send to fail with "disconnected";
//   - a send blocked through a handle that another thread closes wakes with "closed" (rule 12):
//     every send selects on its handle's done channel too. Before close(ch) the driver waits until
//     no send is inside a select (each one is woken by its handle's done), so close(ch) can never
//     race a send and panic.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// forever is the timeout, in seconds, from which a call waits forever (time.Duration overflows near 9.2e9).
const forever = 1e9

var integer = regexp.MustCompile(`^-?[0-9]+$`)

type sender struct {
	closed bool
	done   chan struct{} // closed when this handle is closed: wakes sends blocked through it
}

// channel is the one channel and its handle table; mu guards every field but ch's contents.
type channel struct {
	mu      sync.Mutex
	ch      chan json.Number
	senders map[string]*sender
	open    int            // senders not yet closed; close(ch) when it reaches 0
	sending sync.WaitGroup // sends that may be inside a select on ch
}

var (
	the   *channel
	theMu sync.Mutex
	start = time.Now()
	outMu sync.Mutex
)

type reply map[string]any

// write sends one reply line whole, under a lock; a closed stdout means the parent is gone.
func write(r reply) {
	line, err := json.Marshal(r)
	if err != nil {
		line = []byte(fmt.Sprintf(`{"id":null,"outcome":"error","message":%q}`, err.Error()))
	}
	outMu.Lock()
	defer outMu.Unlock()
	if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
		os.Exit(0)
	}
}

type request map[string]json.RawMessage

func (q request) str(key string) (string, error) {
	var s string
	if err := json.Unmarshal(q[key], &s); err != nil {
		return "", fmt.Errorf("%q must be a string", key)
	}
	return s, nil
}

func (q request) integer(key string) (json.Number, error) {
	var n json.Number
	if err := json.Unmarshal(q[key], &n); err != nil || !integer.MatchString(string(n)) {
		return "", fmt.Errorf("%q must be an integer", key)
	}
	return n, nil
}

func (q request) isNull(key string) bool {
	raw, ok := q[key]
	return !ok || string(raw) == "null"
}

// timeout is nil for "wait forever", else the time to wait (zero: one attempt).
func (q request) timeout() (*time.Duration, error) {
	if q.isNull("timeout") {
		return nil, nil
	}
	var s float64
	if err := json.Unmarshal(q["timeout"], &s); err != nil || s < 0 {
		return nil, fmt.Errorf(`"timeout" must be null or a number of seconds >= 0`)
	}
	if s >= forever {
		return nil, nil
	}
	d := time.Duration(s * float64(time.Second))
	return &d, nil
}

func outcome(o string, kv ...any) reply {
	r := reply{"outcome": o}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

func newChannel(q request) (reply, error) {
	var ch chan json.Number
	if q.isNull("capacity") {
		return outcome("unsupported", "message", "Go channels are never unbounded"), nil
	}
	k, err := q.integer("capacity")
	n, convErr := k.Int64()
	if err != nil || convErr != nil || n < 0 || n > 1<<40 {
		return nil, fmt.Errorf(`"capacity" must be null or an integer >= 0`)
	}
	ch = make(chan json.Number, n)
	theMu.Lock()
	defer theMu.Unlock()
	if the != nil {
		return nil, fmt.Errorf(`"new" was already done: one driver process serves one channel`)
	}
	the = &channel{ch: ch, senders: map[string]*sender{"s0": {done: make(chan struct{})}}, open: 1}
	return outcome("channel", "sender", "s0", "receiver", "r0"), nil
}

// acquire looks up an open sender and registers a send through it; release must follow.
func (c *channel) acquire(name string, v json.Number) (*sender, reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.senders[name]
	if !ok {
		return nil, nil, fmt.Errorf("no sender handle named %q", name)
	}
	if s.closed {
		return nil, outcome("closed", "value", v), nil
	}
	c.sending.Add(1)
	return s, nil, nil
}

func (c *channel) send(name string, v json.Number, timeout *time.Duration, try bool) (reply, error) {
	s, closed, err := c.acquire(name, v)
	if s == nil {
		return closed, err
	}
	defer c.sending.Done()
	switch {
	case try:
		select {
		case c.ch <- v:
			return outcome("ok"), nil
		default:
			return outcome("full", "value", v), nil
		}
	case timeout == nil:
		select {
		case c.ch <- v:
			return outcome("ok"), nil
		case <-s.done:
			return outcome("closed", "value", v), nil
		}
	case *timeout == 0:
		select {
		case c.ch <- v:
			return outcome("ok"), nil
		default:
			return outcome("timeout", "value", v), nil
		}
	default:
		timer := time.NewTimer(*timeout)
		defer timer.Stop()
		select {
		case c.ch <- v:
			return outcome("ok"), nil
		case <-s.done:
			return outcome("closed", "value", v), nil
		case <-timer.C:
			return outcome("timeout", "value", v), nil
		}
	}
}

func received(v json.Number, ok bool) reply {
	if !ok {
		return outcome("disconnected")
	}
	return outcome("got", "value", v)
}

func (c *channel) recv(timeout *time.Duration, try bool) reply {
	switch {
	case timeout == nil && !try:
		v, ok := <-c.ch
		return received(v, ok)
	case try || *timeout == 0:
		select {
		case v, ok := <-c.ch:
			return received(v, ok)
		default:
			if try {
				return outcome("empty")
			}
			return outcome("timeout")
		}
	default:
		timer := time.NewTimer(*timeout)
		defer timer.Stop()
		select {
		case v, ok := <-c.ch:
			return received(v, ok)
		case <-timer.C:
			return outcome("timeout")
		}
	}
}

func (c *channel) clone(name string) (reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.senders[name]
	if !ok {
		return nil, fmt.Errorf("no sender handle named %q", name)
	}
	if s.closed {
		return outcome("closed"), nil
	}
	handle := fmt.Sprintf("s%d", len(c.senders))
	c.senders[handle] = &sender{done: make(chan struct{})}
	c.open++
	return outcome("sender", "handle", handle), nil
}

func (c *channel) close(name string) (reply, error) {
	if name == "r0" {
		return outcome("unsupported", "message", "Go channels have no receiver close"), nil
	}
	c.mu.Lock()
	s, ok := c.senders[name]
	if !ok {
		c.mu.Unlock()
		return nil, fmt.Errorf("no handle named %q", name)
	}
	if s.closed {
		c.mu.Unlock()
		return outcome("ok"), nil
	}
	s.closed = true
	close(s.done)
	c.open--
	last := c.open == 0
	c.mu.Unlock()
	if last {
		// Every handle is closed, so no send can start; those in flight are being woken by their
		// handle's done. Only then is close(ch) safe.
		c.sending.Wait()
		close(c.ch)
	}
	return outcome("ok"), nil
}

// perform runs one request on its protocol thread and returns the reply without its id.
func perform(q request, op string) (reply, error) {
	if op == "new" {
		return newChannel(q)
	}
	theMu.Lock()
	c := the
	theMu.Unlock()
	if c == nil {
		return nil, fmt.Errorf(`no channel yet: the first request must be "new"`)
	}
	handle, err := q.str("handle")
	if err != nil {
		return nil, err
	}
	switch op {
	case "send", "try_send":
		v, err := q.integer("value")
		if err != nil {
			return nil, err
		}
		var timeout *time.Duration
		if op == "send" {
			if timeout, err = q.timeout(); err != nil {
				return nil, err
			}
		}
		return c.send(handle, v, timeout, op == "try_send")
	case "recv", "try_recv":
		if handle != "r0" {
			return nil, fmt.Errorf("no receiver handle named %q", handle)
		}
		var timeout *time.Duration
		if op == "recv" {
			if timeout, err = q.timeout(); err != nil {
				return nil, err
			}
		}
		return c.recv(timeout, op == "try_recv"), nil
	case "clone":
		return c.clone(handle)
	case "close":
		return c.close(handle)
	}
	return nil, fmt.Errorf("unknown op %q", op)
}

type thread struct {
	requests chan request
	busy     atomic.Bool
}

func (t *thread) run() {
	for q := range t.requests {
		var id json.Number
		_ = json.Unmarshal(q["id"], &id)
		op, _ := q.str("op")
		began := time.Since(start).Nanoseconds()
		r, err := perform(q, op)
		ended := time.Since(start).Nanoseconds()
		if err != nil {
			r = outcome("error", "message", err.Error())
		}
		r["id"], r["start_ns"], r["end_ns"] = id, began, ended
		t.busy.Store(false) // before the reply: the next request for this thread may follow at once
		write(r)
	}
}

func hello() reply {
	return reply{
		"protocol": "mpsc-driver/1",
		"name":     "go",
		"language": "go",
		"library":  "Go channels (chan; sender handles counted by the driver, close(ch) on the last)",
		"version":  runtime.Version(),
		"offers": reply{
			"capacities": reply{"unbounded": false, "bounded": true, "rendezvous": true},
			"missing":    []string{"close_receiver"},
			"deviations": []reply{},
		},
	}
}

func main() {
	write(hello())
	threads := map[string]*thread{}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		var q request
		if err := json.Unmarshal(line, &q); err != nil || q == nil {
			write(outcome("error", "id", nil, "message", "a request must be a JSON object"))
			continue
		}
		id, err := q.integer("id")
		if err != nil {
			write(outcome("error", "id", nil, "message", err.Error()))
			continue
		}
		op, err := q.str("op")
		if err != nil {
			write(outcome("error", "id", id, "message", err.Error()))
			continue
		}
		if op == "quit" {
			os.Exit(0)
		}
		name, err := q.str("thread")
		if err != nil {
			write(outcome("error", "id", id, "message", err.Error()))
			continue
		}
		t, ok := threads[name]
		if !ok {
			t = &thread{requests: make(chan request, 1)}
			threads[name] = t
			go t.run()
		}
		if t.busy.Swap(true) {
			write(outcome("error", "id", id, "message", "this thread still has a request outstanding"))
			continue
		}
		t.requests <- q
	}
	os.Exit(0)
}
