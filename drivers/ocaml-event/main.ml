(* mpsc-driver/1 for OCaml's Event channels (the threads library): one process serves one channel,
   requests arrive as JSON lines on stdin, replies leave as JSON lines on stdout
   (drivers/PROTOCOL.md).

   Event channels are synchronous: the only capacity is the rendezvous.  send and recv are
   [Event.sync (Event.send ch v)] and [Event.sync (Event.receive ch)]; try_send and try_recv are
   [Event.poll] of the same events.  A call with a timeout is [Event.choose] between the operation
   and the receive of an alarm that a timer thread offers once the time is up: the choice is atomic
   in the library, so exactly one of them happens and a timed-out call has had no effect.

   Event channels have no handles, so handles are this driver's bookkeeping: closing a sender only
   makes that handle unusable.  The library has no disconnection and no receiver close, so both are
   declared missing; so is closing a handle while another thread is blocked through it (nothing in
   the library could wake that call).  Each protocol thread is a Thread.t. *)

let forever = 1e9 (* timeouts from this many seconds on wait forever *)

exception Bad of string (* a malformed request: answered "error" *)

type reply = (string * Yojson.Safe.t) list

let out_lock = Mutex.create ()

(* One reply line, written whole under a lock and flushed; a closed stdout means the parent is gone. *)
let write (json : Yojson.Safe.t) =
  Mutex.lock out_lock;
  (try
     print_string (Yojson.Safe.to_string json);
     print_char '\n';
     flush stdout
   with Sys_error _ -> exit 0);
  Mutex.unlock out_lock

(* The channel and the handle table; [table_lock] guards the table. *)
let ch : Yojson.Safe.t Event.channel = Event.new_channel ()
let created = ref false
let senders : (string, bool ref) Hashtbl.t = Hashtbl.create 8 (* name -> closed *)
let table_lock = Mutex.create ()

let locked f =
  Mutex.lock table_lock;
  Fun.protect ~finally:(fun () -> Mutex.unlock table_lock) f

let field req key = Yojson.Safe.Util.member key req

let string_field req key =
  match field req key with `String s -> s | _ -> raise (Bad (Printf.sprintf "%S must be a string" key))

let value_field req =
  match field req "value" with
  | (`Int _ | `Intlit _) as v -> v
  | _ -> raise (Bad "\"value\" must be an integer token")

(* [None] waits forever; [Some s] gives up after s seconds (0: one attempt). *)
let timeout_field req =
  let bad () = raise (Bad "\"timeout\" must be null or a number of seconds >= 0") in
  let seconds = function
    | s when Float.is_nan s || s < 0. -> bad ()
    | s when s >= forever -> None
    | s -> Some s
  in
  match field req "timeout" with
  | `Null -> None
  | `Int n -> seconds (float_of_int n)
  | `Intlit _ -> None
  | `Float s -> seconds s
  | _ -> bad ()

(* [ev] within [seconds]: [Some result], or [None] once the alarm was taken instead. *)
let within seconds (ev : 'a Event.event) : 'a option =
  if seconds = 0. then Event.poll ev
  else begin
    let alarm = Event.new_channel () and finished = Atomic.make false in
    let ring () =
      Thread.delay seconds;
      (* The caller may not have reached its choice yet: offer the alarm until taken or moot. *)
      let rec offer () =
        if not (Atomic.get finished) then
          match Event.poll (Event.send alarm ()) with
          | Some () -> ()
          | None -> Thread.delay 0.001; offer ()
      in
      offer ()
    in
    ignore (Thread.create ring ());
    let result =
      Event.sync (Event.choose [ Event.wrap ev Option.some; Event.wrap (Event.receive alarm) (fun () -> None) ])
    in
    Atomic.set finished true;
    result
  end

(* The sender [name] if open; [Error reply] if closed; [Bad] if it never existed. *)
let open_sender name =
  locked (fun () ->
      match Hashtbl.find_opt senders name with
      | None -> raise (Bad (Printf.sprintf "no sender handle named %S" name))
      | Some closed -> not !closed)

let check_receiver name = if name <> "r0" then raise (Bad (Printf.sprintf "no receiver handle named %S" name))

let outcome o : reply = [ ("outcome", `String o) ]

let perform req op : reply =
  if op = "new" then begin
    match field req "capacity" with
    | `Int 0 ->
        locked (fun () ->
            if !created then raise (Bad "\"new\" was already done: one driver process serves one channel");
            created := true;
            Hashtbl.replace senders "s0" (ref false));
        [ ("outcome", `String "channel"); ("sender", `String "s0"); ("receiver", `String "r0") ]
    | `Null | `Int _ | `Intlit _ ->
        [ ("outcome", `String "unsupported"); ("message", `String "OCaml Event channels are rendezvous only") ]
    | _ -> raise (Bad "\"capacity\" must be null or an integer >= 0")
  end
  else begin
    if not (locked (fun () -> !created)) then raise (Bad "no channel yet: the first request must be \"new\"");
    let handle = string_field req "handle" in
    match op with
    | "send" | "try_send" ->
        let v = value_field req in
        let timeout = if op = "send" then timeout_field req else Some 0. in
        if not (open_sender handle) then [ ("outcome", `String "closed"); ("value", v) ]
        else begin
          let sent = Event.send ch v in
          match timeout with
          | None -> Event.sync sent; outcome "ok"
          | Some s -> (
              match within s sent with
              | Some () -> outcome "ok"
              | None -> [ ("outcome", `String (if op = "send" then "timeout" else "full")); ("value", v) ])
        end
    | "recv" | "try_recv" -> (
        check_receiver handle;
        let timeout = if op = "recv" then timeout_field req else Some 0. in
        let got v = [ ("outcome", `String "got"); ("value", v) ] in
        match timeout with
        | None -> got (Event.sync (Event.receive ch))
        | Some s -> (
            match within s (Event.receive ch) with
            | Some v -> got v
            | None -> outcome (if op = "recv" then "timeout" else "empty")))
    | "clone" ->
        if not (open_sender handle) then outcome "closed"
        else
          let name = locked (fun () ->
              let name = Printf.sprintf "s%d" (Hashtbl.length senders) in
              Hashtbl.replace senders name (ref false);
              name)
          in
          [ ("outcome", `String "sender"); ("handle", `String name) ]
    | "close" when handle = "r0" ->
        [ ("outcome", `String "unsupported"); ("message", `String "OCaml Event channels have no receiver close") ]
    | "close" ->
        locked (fun () ->
            match Hashtbl.find_opt senders handle with
            | None -> raise (Bad (Printf.sprintf "no handle named %S" handle))
            | Some closed -> closed := true);
        outcome "ok"
    | _ -> raise (Bad (Printf.sprintf "unknown op %S" op))
  end

(* A protocol thread: its mailbox of requests, and whether one is outstanding. *)
type worker = { mutable inbox : Yojson.Safe.t list; mutable busy : bool; lock : Mutex.t; ready : Condition.t }

let serve w =
  let rec loop () =
    Mutex.lock w.lock;
    while w.inbox = [] do Condition.wait w.ready w.lock done;
    let req = List.hd w.inbox in
    w.inbox <- List.tl w.inbox;
    Mutex.unlock w.lock;
    let id = field req "id" in
    let reply =
      try perform req (string_field req "op") with
      | Bad message -> [ ("outcome", `String "error"); ("message", `String message) ]
      | e -> [ ("outcome", `String "error"); ("message", `String ("driver bug: " ^ Printexc.to_string e)) ]
    in
    Mutex.lock w.lock;
    w.busy <- false (* before the reply: the next request for this thread may follow at once *);
    Mutex.unlock w.lock;
    write (`Assoc (("id", id) :: reply));
    loop ()
  in
  loop ()

let hello : Yojson.Safe.t =
  `Assoc
    [ ("protocol", `String "mpsc-driver/1");
      ("name", `String "ocaml-event");
      ("language", `String "ocaml");
      ("library", `String "Event (OCaml threads library)");
      ("version", `String Sys.ocaml_version);
      ( "offers",
        `Assoc
          [ ("capacities", `Assoc [ ("unbounded", `Bool false); ("bounded", `Bool false); ("rendezvous", `Bool true) ]);
            ("missing", `List [ `String "disconnect"; `String "close_receiver"; `String "close_while_blocked" ]);
            ("deviations", `List []) ] ) ]

let error id message = write (`Assoc [ ("id", id); ("outcome", `String "error"); ("message", `String message) ])

let () =
  write hello;
  let workers : (string, worker) Hashtbl.t = Hashtbl.create 8 in
  let rec loop () =
    match input_line stdin with
    | exception End_of_file -> exit 0
    | "" -> loop ()
    | line ->
        (match Yojson.Safe.from_string line with
         | exception Yojson.Json_error m -> error `Null ("not JSON: " ^ m)
         | `Assoc _ as req -> (
             match (field req "id", field req "op", field req "thread") with
             | (`Int _ | `Intlit _), `String "quit", _ -> exit 0
             | ((`Int _ | `Intlit _) as id), `String _, `String name ->
                 let w =
                   match Hashtbl.find_opt workers name with
                   | Some w -> w
                   | None ->
                       let w = { inbox = []; busy = false; lock = Mutex.create (); ready = Condition.create () } in
                       Hashtbl.replace workers name w;
                       ignore (Thread.create serve w);
                       w
                 in
                 Mutex.lock w.lock;
                 let was_busy = w.busy in
                 if not was_busy then begin
                   w.busy <- true;
                   w.inbox <- w.inbox @ [ req ];
                   Condition.signal w.ready
                 end;
                 Mutex.unlock w.lock;
                 if was_busy then error id "this thread still has a request outstanding"
             | ((`Int _ | `Intlit _) as id), _, _ -> error id "\"op\" and \"thread\" must be strings"
             | _ -> error `Null "\"id\" must be an integer")
         | _ -> error `Null "a request must be a JSON object");
        loop ()
  in
  loop ()
