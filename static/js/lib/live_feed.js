/* The live room's event feed: one WebSocket to /ws/live/<room>/, with an HTTP fallback.
 * No framework, no inline code (the CSP allows nothing else). Used by the candidate's
 * room page and the interviewer's console alike:
 *
 *   const feed = openLiveFeed({socketUrl: "/ws/live/7/", eventsUrl: "/live/7/events/",
 *     after: lastSeqRenderedByTheServer, onEvents, onTyping, onStatus});
 *   feed.send({type: "typing", step, text, version});   // false when the socket is down
 *   feed.lastSeq(); feed.close();
 *
 * What it promises the page:
 * - `onEvents(events)` gets every event this side may read exactly once, oldest first: no
 *   seq is delivered twice and none after a higher one. (The candidate's seqs have holes:
 *   the interviewer's private notes are numbered too. So a hole in the numbers is not a gap;
 *   a gap is a batch that starts after the last event delivered, see `take`.)
 * - Every (re)connect sends `{"type": "hello", "after": lastSeq}`; the server answers with
 *   everything after it, then pushes `{"type": "events", "after": n, "events": [...]}` as
 *   the log grows (`after` is the seq the batch continues from).
 * - The socket reconnects with capped exponential backoff and jitter (many pages must not
 *   reconnect in step after a server restart). While it is down, `eventsUrl?after=n` is
 *   polled every ~2 s, so the page keeps up, only later.
 * - `onStatus("live" | "reconnecting" | "polling")` on each change: "polling" means the push
 *   is down but the page is still getting events; "reconnecting" means it is getting none.
 * - `send` queues nothing: what goes up the socket (the candidate's text as it is typed) is
 *   ephemeral, and the saved answers are the record.
 */

const POLL_MS = 2000;
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 15000;
// Each delay is the backoff less up to 30 %: spread out, and never above the cap.
const RECONNECT_JITTER = 0.3;
// The server's page size (interviews.live.selectors.EVENTS_PAGE): a full page means more.
const EVENTS_PAGE = 200;

/** ws://host/path on an http page, wss:// on an https one; `socketUrl` may be a path. */
export function socketAddress(socketUrl) {
  const url = new URL(socketUrl, window.location.href);
  url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

export function openLiveFeed({ socketUrl, eventsUrl, after = 0, onEvents, onTyping, onStatus }) {
  const address = socketAddress(socketUrl);
  let delivered = Number(after) || 0; // the seq of the last event handed to onEvents
  let waiting = []; // batches that start after `delivered`: held until the gap is filled
  let socket = null;
  let socketLive = false; // the server has answered our hello on this socket
  let attempts = 0;
  let reconnectTimer = null;
  let pollTimer = null;
  let polling = false;
  let fetching = false;
  let status = null;
  let closed = false;

  function report(next) {
    if (next === status || closed) return;
    status = next;
    if (onStatus) onStatus(next);
  }

  /* ------------------------------------------------------------ ordering and dedupe */

  /** A batch holds every event this side may read with after < seq <= its last seq. If it
   * starts where we are (or before), deliver what is new; if it starts later, something
   * between was missed: hold it and fetch the hole over HTTP. */
  function take(batchAfter, events) {
    const sorted = (events || []).filter((e) => Number.isInteger(e.seq))
      .sort((a, b) => a.seq - b.seq);
    if (batchAfter > delivered) {
      waiting.push({ after: batchAfter, events: sorted });
      fillGap();
      return;
    }
    deliver(sorted);
    // The held batches that now connect, in order; each may unblock the next.
    let progressed = true;
    while (progressed && waiting.length) {
      progressed = false;
      waiting.sort((a, b) => a.after - b.after);
      if (waiting[0].after <= delivered) {
        deliver(waiting.shift().events);
        progressed = true;
      }
    }
  }

  function deliver(sorted) {
    const fresh = [];
    for (const event of sorted) {
      if (event.seq > delivered) {
        fresh.push(event);
        delivered = event.seq;
      }
    }
    if (fresh.length && onEvents && !closed) onEvents(fresh);
  }

  /* ------------------------------------------------------------ HTTP: gaps and polling */

  /** Read the log over HTTP from `delivered` until a page is not full (one read at a
   * time). A held batch that was waiting when the read started is covered by it once it
   * completes: the log had nothing else for us in between. Resolves to whether it worked. */
  async function fetchEvents() {
    if (fetching || closed) return true;
    fetching = true;
    const covered = new Set(waiting);
    let ok = false;
    try {
      for (;;) {
        const from = delivered;
        const url = new URL(eventsUrl, window.location.href);
        url.searchParams.set("after", String(from));
        const response = await fetch(url, {
          credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store",
        });
        if (!response.ok) break;
        const body = await response.json();
        take(from, body.events);
        if (!body.events || body.events.length < EVENTS_PAGE || delivered === from) {
          ok = true;
          break;
        }
      }
    } catch (error) {
      // Offline, or the server is down: the next poll, or the retry below, tries again.
    } finally {
      fetching = false;
    }
    if (ok) {
      const released = waiting.filter((batch) => covered.has(batch));
      waiting = waiting.filter((batch) => !covered.has(batch));
      released.sort((a, b) => a.after - b.after).forEach((batch) => deliver(batch.events));
    }
    // A batch that arrived during the read still waits: read again (later if it failed).
    if (waiting.length && !closed) setTimeout(fetchEvents, ok ? 0 : POLL_MS);
    return ok;
  }

  function fillGap() {
    fetchEvents();
  }

  // One polling loop at a time: a loop whose number is not `pollLoop` any more ends.
  let pollLoop = 0;

  function startPolling() {
    if (polling || closed) return;
    polling = true;
    const loop = ++pollLoop;
    const poll = async () => {
      const ok = await fetchEvents();
      if (loop !== pollLoop || closed) return;
      report(ok ? "polling" : "reconnecting");
      pollTimer = setTimeout(poll, POLL_MS);
    };
    pollTimer = setTimeout(poll, POLL_MS);
  }

  function stopPolling() {
    polling = false;
    pollLoop += 1;
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  /* ------------------------------------------------------------ the socket */

  function connect() {
    reconnectTimer = null;
    if (closed) return;
    let current;
    try {
      current = new WebSocket(address);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = current;
    current.addEventListener("open", () => {
      current.send(JSON.stringify({ type: "hello", after: delivered }));
    });
    current.addEventListener("message", (message) => {
      if (current !== socket) return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (data.type === "events") {
        if (!socketLive) {
          // The server answered our hello: the socket works, so the backoff starts over.
          socketLive = true;
          attempts = 0;
          stopPolling();
          report("live");
        }
        take(Number.isInteger(data.after) ? data.after : delivered, data.events);
      } else if (data.type === "typing" && onTyping) {
        onTyping(data);
      }
    });
    current.addEventListener("close", () => {
      if (current !== socket) return;
      socket = null;
      socketLive = false;
      if (closed) return;
      report(polling && status === "polling" ? "polling" : "reconnecting");
      startPolling();
      scheduleReconnect();
    });
    // An error is always followed by close, which does the work.
  }

  function scheduleReconnect() {
    if (reconnectTimer || closed) return;
    const backoff = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** attempts);
    attempts += 1;
    reconnectTimer = setTimeout(connect, backoff * (1 - RECONNECT_JITTER * Math.random()));
  }

  // Back online (laptop woke, Wi-Fi returned): try now instead of waiting out the backoff.
  function online() {
    if (socket || closed) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    attempts = 0;
    connect();
  }
  window.addEventListener("online", online);

  connect();

  return {
    /** Send a message up the socket if it is live; returns whether it went. Nothing is
     * queued: a keystroke that misses the socket is superseded by the next one. */
    send(message) {
      if (!socket || !socketLive || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    close() {
      closed = true;
      window.removeEventListener("online", online);
      clearTimeout(reconnectTimer);
      stopPolling();
      if (socket) socket.close(1000);
      socket = null;
    },
    lastSeq() {
      return delivered;
    },
  };
}
