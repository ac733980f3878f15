// Tidings browser SDK: one ES module, no build step. It wraps EventSource and
// fetch and hides the wire protocol (init, tokens, resume, history replies).
// Types: tidings.d.ts beside this file. Guide: README.md.

/** An error the server answered with, or a failure to reach it. */
export class TidingsError extends Error {
  /**
   * @param {number} code the server's `code` (its HTTP status), or 0 when the
   *   server could not be reached or gave no Tidings answer
   * @param {string} message text meant for the person using the page
   */
  constructor(code, message) {
    super(message);
    this.name = 'TidingsError';
    this.code = code;
  }
}

const MIN_RETRY = 1000;
const MAX_RETRY = 30000;
// What the server answers about a stream that cannot be subscribed to:
// unknown, not live (yet), ended. Reconnecting will not help.
const STREAM_REFUSED = new Set([404, 409, 410]);

/**
 * Opens a channel and resolves once the server's `init` has arrived.
 * @param {import('./tidings.d.ts').ConnectOptions} options
 * @returns {Promise<Channel>} rejects with a TidingsError carrying the
 *   server's message (unknown stream, stream not live …)
 */
export function connect(options) {
  return Channel.connect(options);
}

/** One subscription to a stream's channel. Create it with `connect`. */
export class Channel {
  #listeners = new Map();
  #pending = []; // history() calls waiting for a reply, oldest first
  #es = null;
  #lastId = '';
  #userId = '';
  #token = '';
  #viewers = 0;
  #maxSeq = -1; // highest seq of a broadcast/private delivered to this identity
  #state = 'connecting';
  #started = null; // {resolve, reject, timer} until the first init
  #retryDelay = MIN_RETRY;
  #retryTimer = 0;
  #lastError = null; // why the last attempt to subscribe failed
  #timeout;

  /** @param {import('./tidings.d.ts').ConnectOptions} options */
  static connect(options) {
    let ch;
    try { ch = new Channel(options); } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      const fail = (err) => {
        if (!ch.#started) return;
        clearTimeout(ch.#started.timer);
        ch.#started = null;
        ch.close();
        reject(err);
      };
      const timer = setTimeout(() => fail(ch.#lastError || new TidingsError(0,
        `no answer from ${ch.baseUrl} within ${ch.#timeout / 1000}s`)), ch.#timeout);
      ch.#started = { resolve: () => resolve(ch), reject: fail, timer };
      ch.#open();
    });
  }

  /** @param {import('./tidings.d.ts').ConnectOptions} options */
  constructor({ baseUrl, streamId, widgetKey, timeout = 15000 } = {}) {
    if (!baseUrl || streamId === undefined || streamId === null || streamId === '' || !widgetKey) {
      throw new TypeError('Tidings: baseUrl, streamId and widgetKey are required');
    }
    if (typeof EventSource === 'undefined') throw new TypeError('Tidings: this environment has no EventSource');
    /** @readonly */ this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    /** @readonly */ this.streamId = String(streamId);
    /** @readonly */ this.widgetKey = String(widgetKey);
    this.#timeout = timeout;
  }

  /** The user id the server gave this connection. */
  get userId() { return this.#userId; }
  /** The token publishes are authenticated with (the server may renew it). */
  get token() { return this.#token; }
  /** The last viewer count the server announced. */
  get viewerCount() { return this.#viewers; }
  /** 'connecting', 'open', 'reconnecting' or 'closed'. */
  get state() { return this.#state; }

  /**
   * Sends a broadcast: every subscriber gets it, this one included, and it is
   * stored in the stream's history.
   * @returns {Promise<void>} resolves when the server accepted it (stored)
   */
  broadcast(message, { timestamp = 0 } = {}) {
    return this.#publish({ type: 'broadcast', message, timestamp });
  }

  /** Sends a message to one user only. */
  sendPrivate(userId, message, { timestamp = 0 } = {}) {
    return this.#publish({ type: 'private', to_user_id: String(userId), message, timestamp });
  }

  /**
   * Asks the server to call `url` with `payload` (the server's webhook rules
   * apply). Rejects if the server refuses, including a server without webhooks.
   */
  webhook(url, payload = {}) {
    const { url: _ignored, ...rest } = payload || {};
    return this.#publish({ type: 'webhook', message: { url, ...rest } });
  }

  /**
   * Fetches every stored broadcast of the stream, oldest first.
   * @returns {Promise<import('./tidings.d.ts').Envelope[]>}
   */
  history() {
    if (this.#state !== 'open') {
      // The reply would come over a connection that is not there.
      return Promise.reject(new TidingsError(0, `the channel is ${this.#state}; request the history once it is open`));
    }
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: 0 };
      const drop = (err) => {
        const i = this.#pending.indexOf(waiter);
        if (i >= 0) this.#pending.splice(i, 1);
        clearTimeout(waiter.timer);
        reject(err);
      };
      waiter.timer = setTimeout(() => drop(new TidingsError(0,
        `the history did not arrive within ${this.#timeout / 1000}s`)), this.#timeout);
      this.#pending.push(waiter);
      this.#publish({ type: 'request' }).catch(drop);
    });
  }

  /**
   * Listens for an event (see ChannelEvents in tidings.d.ts).
   * @returns {() => void} a function that removes the listener
   */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    return () => this.off(type, listener);
  }

  /** Removes a listener added with `on`. */
  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Closes the connection; pending calls reject. */
  close() {
    this.#shut(new TidingsError(0, 'the channel was closed'));
  }

  #shut(err) {
    clearTimeout(this.#retryTimer);
    this.#es?.close();
    this.#es = null;
    this.#failPending(err);
    this.#setState('closed');
  }

  // EventSource sends Last-Event-ID on its own reconnects; a new one made
  // after it gave up passes the id in the query instead.
  #subscribeUrl() {
    const url = `${this.baseUrl}/subscribe/${encodeURIComponent(this.streamId)}`;
    return this.#lastId ? `${url}?lastEventId=${encodeURIComponent(this.#lastId)}` : url;
  }

  #open() {
    const es = new EventSource(this.#subscribeUrl());
    this.#es = es;
    es.onmessage = (ev) => { if (es === this.#es) this.#onEvent(ev); };
    es.onerror = () => { if (es === this.#es) this.#onError(es); };
  }

  #onEvent(ev) {
    if (ev.lastEventId) this.#lastId = ev.lastEventId;
    let env;
    try { env = JSON.parse(ev.data); } catch { return; }
    if (!env || typeof env !== 'object') return;
    this.#retryDelay = MIN_RETRY;
    this.#lastError = null;
    if ((env.type === 'broadcast' || env.type === 'private') && this.#isReplayed(ev.lastEventId)) return;
    this.#emit('message', env);
    switch (env.type) {
      case 'init': return this.#onInit(env.message || {});
      case 'system': return this.#onSystem(env.message);
      case 'request': {
        const items = Array.isArray(env.message) ? env.message : [];
        const waiter = this.#pending.shift();
        if (waiter) { clearTimeout(waiter.timer); waiter.resolve(items); }
        return this.#emit('history', items);
      }
      default: return this.#emit(env.type, env); // broadcast, private, webhook …
    }
  }

  // #isReplayed reports whether a broadcast or private event is one this
  // identity already got, and otherwise records its seq (the number after
  // the id's last '-': global and increasing). Why the guard: after
  // EventSource gave up on an HTTP error, the SDK's own reconnect can only
  // send the last id it saw in a dispatched event, not the one EventSource
  // itself had (id-only frames move that on without an event), so the
  // server may replay from an earlier point than needed.
  #isReplayed(id) {
    const tail = id ? id.slice(id.lastIndexOf('-') + 1) : '';
    const seq = /^\d+$/.test(tail) ? Number(tail) : NaN;
    if (!Number.isSafeInteger(seq)) return false; // no usable id: deliver it
    if (seq <= this.#maxSeq) return true;
    this.#maxSeq = seq;
    return false;
  }

  #onInit(m) {
    this.#userId = String(m.user_id ?? '');
    this.#token = String(m.token ?? '');
    this.#viewers = Number(m.viewer_count) || 0;
    this.#maxSeq = -1; // a new identity: its seqs start afresh
    this.#setState('open');
    const started = this.#started;
    if (started) {
      this.#started = null;
      clearTimeout(started.timer);
      started.resolve();
      return;
    }
    // A second init: the server could not resume us (a new identity).
    // Replies meant for the old identity will never come.
    this.#failPending(new TidingsError(0, 'the server started a new session; request the history again'));
    this.#emit('reset', { userId: this.#userId, token: this.#token, viewerCount: this.#viewers });
    this.#emit('viewers', this.#viewers);
  }

  #onSystem(m) {
    if (!m || typeof m !== 'object') return;
    // Any notice may renew the token (today "resumed" does), as the Go
    // client takes it.
    if (typeof m.token === 'string' && m.token) {
      this.#token = m.token;
      if (typeof m.user_id === 'string' && m.user_id) this.#userId = m.user_id;
    }
    if (typeof m.viewer_count === 'number') {
      this.#viewers = m.viewer_count;
      this.#emit('viewers', m.viewer_count);
    }
    switch (m.event) {
      case 'resumed':
        if (m.user_id) this.#userId = String(m.user_id);
        this.#setState('open');
        this.#emit('resumed', { userId: this.#userId, token: this.#token });
        break;
      case 'messages_lost':
        this.#emit('lost', { message: String(m.message || 'some messages were missed') });
        break;
      case 'reconnect':
        this.#dropped();
        break;
      case 'disconnected': // the server closes this connection on purpose; EventSource resumes
        this.#dropped();
        this.#emit('disconnected', { reason: String(m.reason || 'closed by the server') });
        break;
      case 'stream_ended': {
        const message = String(m.message || 'the stream has ended');
        this.#shut(new TidingsError(410, message));
        this.#emit('ended', { message });
        break;
      }
    }
    this.#emit('system', m);
  }

  #onError(es) {
    if (!this.#started) this.#dropped();
    // Network errors: EventSource retries by itself (resuming from the last
    // id). An HTTP error closes it for good: find out why, and unless the
    // stream is gone or refused, open a new one after a backoff.
    if (es.readyState !== EventSource.CLOSED) return;
    this.#es = null;
    probe(this.baseUrl, this.streamId).then((err) => {
      if (this.#state === 'closed') return;
      if (err && STREAM_REFUSED.has(err.code)) {
        if (this.#started) return this.#started.reject(err);
        if (err.code === 410) {
          // As when the server announces the end on an open connection.
          this.#shut(err);
          this.#emit('ended', { message: err.message });
          return;
        }
        this.#emit('error', err);
        this.#shut(err);
        return;
      }
      this.#lastError = err || new TidingsError(0,
        `the event stream of ${this.baseUrl} was refused although the stream is live (a proxy in between?); retrying`);
      this.#retryTimer = setTimeout(() => this.#open(), this.#retryDelay);
      this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY);
    });
  }

  // The connection is gone for now; replies to requests made on it are lost.
  #dropped() {
    if (this.#state !== 'open') return;
    this.#failPending(new TidingsError(0, 'the connection dropped before the history arrived; request it again'));
    this.#setState('reconnecting');
  }

  #failPending(err) {
    for (const w of this.#pending.splice(0)) { clearTimeout(w.timer); w.reject(err); }
  }

  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('state', state);
  }

  #emit(type, detail) {
    for (const fn of [...(this.#listeners.get(type) || [])]) {
      try { fn(detail); } catch (e) { (globalThis.reportError || console.error)(e); }
    }
  }

  async #publish(body) {
    if (this.#state === 'closed') throw new TidingsError(0, 'the channel is closed; connect again to publish');
    const url = `${this.baseUrl}/publish/${encodeURIComponent(this.streamId)}?token=${encodeURIComponent(this.#token)}`;
    let res;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...body, widget_key: this.widgetKey }),
      });
    } catch (e) {
      throw new TidingsError(0, `could not reach ${this.baseUrl}: ${e.message}`);
    }
    const err = await answerError(res);
    if (err) throw err;
  }
}

// answerError reads a {"code","message"} answer: null when it says 200.
async function answerError(res) {
  let data = null;
  try { data = await res.json(); } catch { /* not JSON: judged by status below */ }
  if (data && data.code === 200) return null;
  if (data && typeof data.message === 'string') return new TidingsError(Number(data.code) || res.status, data.message);
  return new TidingsError(res.ok ? 0 : res.status, `unexpected answer from the server (HTTP ${res.status})`);
}

// probe asks the server why EventSource failed, since EventSource itself
// reports no status. It resolves null when the stream is live (the failure
// was on the way: a proxy, a server starting), else the server's error.
//
// It does not ask the subscribe URL: where that works, the answer is a real
// subscription (a phantom viewer joining and leaving, and with the last id a
// replay), however soon it is aborted. A publish without a token ends at
// once with the same verdict: the server checks the stream first (404
// unknown, 409 not live, 410 ended), then the token (401). No body and no
// headers make it a simple CORS request: no preflight.
async function probe(baseUrl, streamId) {
  let res;
  try {
    res = await fetch(`${baseUrl}/publish/${encodeURIComponent(streamId)}`, { method: 'POST' });
  } catch (e) {
    return new TidingsError(0, `could not reach ${baseUrl}: ${e.message}`);
  }
  const err = await answerError(res);
  return err && err.code === 401 ? null : err;
}
