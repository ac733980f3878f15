// Shared by the examples: find which server, stream and widget key to use,
// load the SDK from that server, and tell the user what is going on.
//
// The configuration comes from the page's query (?base=…&stream=…&key=…),
// then from the server's /examples/config.js (pre-filled with the demo stream
// under `tidings serve --demo`). If something is still missing, a small form
// asks for it. So the examples work served by Tidings itself or from any
// static file server, given the base URL.

/**
 * @returns {Promise<null | {Tidings: typeof import('../../sdk/js/tidings.js'), config: {baseUrl: string, streamId: string, widgetKey: string}}>}
 *   null when the form is shown instead
 */
export async function start() {
  const q = new URLSearchParams(location.search);
  const config = { baseUrl: q.get('base') || '', streamId: q.get('stream') || '', widgetKey: q.get('key') || '' };
  // The base URL ends up in link hrefs and in import(): anything but an
  // http(s) URL (say ?base=javascript:…) is refused before it is used.
  if (config.baseUrl && !isHTTP(config.baseUrl)) {
    showForm(config, notHTTP(config.baseUrl));
    return null;
  }
  if (!config.baseUrl || !config.streamId || !config.widgetKey) {
    const defaults = await serverDefaults(config.baseUrl);
    for (const k of Object.keys(config)) config[k] = config[k] || String(defaults[k] ?? '');
  }
  config.baseUrl = config.baseUrl.replace(/\/+$/, '');
  if (config.baseUrl && !isHTTP(config.baseUrl)) {
    showForm(config, notHTTP(config.baseUrl));
    return null;
  }
  if (!config.baseUrl || !config.streamId || !config.widgetKey) {
    showForm(config, 'Which Tidings server, stream and widget key should this example use?');
    return null;
  }
  // Links marked data-server point at the server, wherever these pages are.
  for (const a of document.querySelectorAll('a[data-server]')) a.href = config.baseUrl + a.dataset.server;
  try {
    const Tidings = await import(`${config.baseUrl}/sdk/tidings.js`);
    return { Tidings, config };
  } catch (err) {
    showForm(config, `Could not load the SDK from ${config.baseUrl}/sdk/tidings.js (${err.message}).`);
    return null;
  }
}

// isHTTP reports whether s is an absolute http: or https: URL.
function isHTTP(s) {
  try {
    const { protocol } = new URL(s);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function notHTTP(base) {
  return `The server URL must start with http:// or https:// (got ${JSON.stringify(base)}). ` +
    'Which Tidings server, stream and widget key should this example use?';
}

// serverDefaults imports config.js from the given server, or from the server
// these pages came from.
async function serverDefaults(base) {
  const url = base ? `${base.replace(/\/+$/, '')}/examples/config.js` : new URL('../config.js', import.meta.url).href;
  try {
    return (await import(url)).default || {};
  } catch {
    return {}; // a static file server has no config.js: the form asks
  }
}

function showForm(config, text) {
  const form = document.createElement('form');
  form.id = 'setup';
  form.method = 'get';
  const intro = document.createElement('p');
  intro.textContent = text;
  form.append(intro);
  for (const [name, label, value] of [
    ['base', 'Server URL', config.baseUrl || 'http://127.0.0.1:8080'],
    ['stream', 'Stream id', config.streamId],
    ['key', 'Widget key', config.widgetKey],
  ]) {
    const row = document.createElement('label');
    const input = document.createElement('input');
    Object.assign(input, { name, value, required: true });
    row.append(`${label}: `, input);
    form.append(row);
  }
  const button = document.createElement('button');
  button.textContent = 'Use these';
  form.append(button);
  document.querySelector('main').prepend(form);
}

/** Shows a one-line status under the title. */
export function showStatus(text) {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
}

/** Describes a connected channel for the status line. */
export function describe(ch) {
  const viewers = `${ch.viewerCount} ${ch.viewerCount === 1 ? 'viewer' : 'viewers'}`;
  switch (ch.state) {
    case 'open': return `Connected as user ${ch.userId} · ${viewers}`;
    case 'reconnecting': return 'Connection lost; reconnecting…';
    case 'closed': return 'Disconnected.';
    default: return 'Connecting…';
  }
}

/** Tells the user about a failure, as the tutorials do: never silently. */
export function report(err) {
  const text = err && err.message ? err.message : String(err);
  showStatus(`Error: ${text}`);
  alert(text);
}

/**
 * Connects to the configured stream and keeps the status line current
 * (state, viewers, stream end); failures are reported to the user.
 * Resolves with the channel, or null when there is none.
 */
export async function connectWithStatus(app) {
  showStatus('Connecting…');
  let ch;
  try {
    ch = await app.Tidings.connect(app.config);
  } catch (err) {
    report(err);
    return null;
  }
  const refresh = () => showStatus(describe(ch));
  refresh();
  for (const event of ['state', 'viewers', 'resumed']) ch.on(event, refresh);
  ch.on('ended', ({ message }) => showStatus(message));
  ch.on('error', report);
  return ch;
}

/** Makes links to the other pages keep this page's configuration. */
export function keepQuery(selector) {
  for (const a of document.querySelectorAll(selector)) a.search = location.search;
}

/** A random id for a message, so each is shown once (crypto.randomUUID needs https). */
export function newId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
