// Types of the Tidings browser SDK (tidings.js).

/** Where to connect. */
export interface ConnectOptions {
  /** The Tidings server, e.g. "http://127.0.0.1:8080" (no trailing path). */
  baseUrl: string;
  /** The live stream whose channel to join. */
  streamId: number | string;
  /** The widget key every publish carries. */
  widgetKey: string;
  /** Milliseconds to wait for init and for history replies (default 15000). */
  timeout?: number;
}

/** One channel message as it travels on the wire. */
export interface Envelope<M = unknown> {
  stream_id: string;
  /** The sender's user id; "0" for the server. */
  author_id: string;
  /** The receiver of a private message (or of a server reply). */
  to_user_id: string;
  /** Whatever the widget sent. */
  message: M;
  /** Seconds of video time when the message was sent; 0 when unknown. */
  timestamp: number;
  type: 'broadcast' | 'private' | 'request' | 'webhook' | 'init' | 'system' | string;
  widget_key: string;
}

/** The `message` of a system envelope. */
export interface SystemMessage {
  /** "viewer_count", "resumed", "messages_lost", "reconnect", "disconnected", "stream_ended" … */
  event?: string;
  viewer_count?: number;
  message?: string;
  /** Why the server closed the connection (with "disconnected"). */
  reason?: string;
  /** A renewed publish token: the SDK takes it from any system message. */
  token?: string;
  user_id?: string;
  [field: string]: unknown;
}

/** Where the connection is. */
export type ChannelState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Events a Channel emits, with what their listeners receive. */
export interface ChannelEvents {
  /** Every envelope (but a replayed duplicate), before its more specific event. */
  message: Envelope;
  /**
   * A broadcast, live or replayed after a reconnect (each exactly once: a
   * replayed one this connection already got is dropped by its event id).
   */
  broadcast: Envelope;
  /** A private message for this user. */
  private: Envelope;
  /** Any history reply (also those `history()` resolves with). */
  history: Envelope[];
  /** Every system notice. */
  system: SystemMessage;
  /** The number of viewers changed. */
  viewers: number;
  /** The connection state changed. */
  state: ChannelState;
  /** Reconnected and resumed: missed messages follow as usual events. */
  resumed: { userId: string; token: string };
  /**
   * The server closed the connection on purpose (e.g. this client read too
   * slowly), saying why. The channel reconnects and resumes by itself, as
   * after any drop (state `reconnecting`, then `resumed`); pending
   * `history()` calls reject.
   */
  disconnected: { reason: string };
  /**
   * The server could not resume this connection and started a new session
   * (new user id and token). Messages may have been missed: reload your
   * state, e.g. clear the list and call `history()`.
   */
  reset: { userId: string; token: string; viewerCount: number };
  /** Messages were dropped from history while away (told after the replay): call `history()` again. */
  lost: { message: string };
  /** The stream ended (announced, or found while reconnecting); the channel is closed. */
  ended: { message: string };
  /** A failure not tied to a call, e.g. reconnecting became impossible (the stream is gone or not live). */
  error: TidingsError;
  /** Envelopes of other types (e.g. webhook results) under their type. */
  [type: string]: unknown;
}

/** An error the server answered with, or a failure to reach it. */
export class TidingsError extends Error {
  constructor(code: number, message: string);
  readonly name: 'TidingsError';
  /** The server's `code` (its HTTP status: 401, 403, 404, 409, 410, 429, 501 …), or 0 when the server could not be reached or a reply never came. */
  readonly code: number;
}

/** One subscription to a stream's channel. */
export class Channel {
  /** Prefer the `connect` function; same behaviour. */
  static connect(options: ConnectOptions): Promise<Channel>;
  /** Builds a channel without connecting; use `connect`. */
  private constructor(options: ConnectOptions);

  readonly baseUrl: string;
  readonly streamId: string;
  readonly widgetKey: string;
  /** This connection's user id (kept across resumes). */
  readonly userId: string;
  /** The publish token (the server may renew it, e.g. on resume). */
  readonly token: string;
  readonly viewerCount: number;
  readonly state: ChannelState;

  /** Sends to every subscriber (this one too) and stores it. Resolves once stored; rejects with the server's error. */
  broadcast(message: unknown, options?: { timestamp?: number }): Promise<void>;
  /** Sends to one user only. */
  sendPrivate(userId: string, message: unknown, options?: { timestamp?: number }): Promise<void>;
  /** Every stored broadcast of the stream, oldest first. Rejects while the channel is not open. */
  history(): Promise<Envelope[]>;
  /** Asks the server to call `url` with `payload`; rejects if the server refuses (a server without webhooks answers 501). */
  webhook(url: string, payload?: Record<string, unknown>): Promise<void>;

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ChannelEvents & string>(type: K, listener: (detail: ChannelEvents[K]) => void): () => void;
  off<K extends keyof ChannelEvents & string>(type: K, listener: (detail: ChannelEvents[K]) => void): void;
  /** Closes the connection; pending calls reject, and so do later publishes. */
  close(): void;
}

/**
 * Opens a channel and resolves once the server's init has arrived.
 * Rejects with a TidingsError carrying the server's message (unknown stream,
 * stream not live …) or code 0 if the server cannot be reached in time.
 */
export function connect(options: ConnectOptions): Promise<Channel>;
