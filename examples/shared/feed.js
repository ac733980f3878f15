// A feed keeps a list on the page equal to the stream's broadcasts that the
// page cares about: the stored ones first, then live ones, each exactly once.
//
// Why this is more than "request history on init, append live messages":
// a message published while the history request is in flight can arrive
// live and also be in the reply. Live messages are held back until the
// reply is in, then only those not already in it are added. Messages our
// examples send carry an `id`; messages without one (sent by other code)
// are matched on their whole envelope.

/**
 * @typedef {object} View
 * @property {(message: any) => boolean} accept which messages belong in the list
 * @property {(message: any, envelope: object) => void} add shows one message
 * @property {() => void} clear empties the list
 * @property {(err: Error) => void} failed shows an error to the user
 */

/**
 * Loads the history into view and keeps it up to date.
 * @param {import('../../sdk/js/tidings.js').Channel} ch
 * @param {View} view
 */
export function follow(ch, view) {
  const seen = new Set(); // ids shown so far
  let held = null; // live envelopes waiting for a history reply
  let generation = 0; // the newest load; older replies are stale
  let retryWhenOpen = false;

  const show = (env) => {
    const id = env.message && env.message.id;
    if (id !== undefined && id !== null) {
      if (seen.has(id)) return;
      seen.add(id);
    }
    view.add(env.message, env);
  };

  const load = async () => {
    const mine = ++generation;
    held = held || [];
    let items;
    try {
      items = await ch.history();
    } catch (err) {
      if (mine !== generation) return; // a newer load is on its way
      for (const env of held) show(env);
      held = null;
      if (err.code === 0 && ch.state === 'reconnecting') retryWhenOpen = true;
      else view.failed(err);
      return;
    }
    if (mine !== generation) return;
    view.clear();
    seen.clear();
    const stored = new Map(); // envelopes without an id → how many
    for (const env of items) {
      if (!view.accept(env.message)) continue;
      show(env);
      if (env.message.id == null) {
        const k = JSON.stringify(env);
        stored.set(k, (stored.get(k) || 0) + 1);
      }
    }
    for (const env of held) {
      const k = env.message.id == null ? JSON.stringify(env) : '';
      if (k && stored.get(k)) {
        stored.set(k, stored.get(k) - 1); // already in the reply
        continue;
      }
      show(env);
    }
    held = null;
  };

  ch.on('broadcast', (env) => {
    if (!view.accept(env.message)) return;
    if (held) held.push(env);
    else show(env);
  });
  // A new session or trimmed history: the list may miss messages, reload.
  ch.on('reset', load);
  ch.on('lost', load);
  ch.on('resumed', () => {
    if (retryWhenOpen) {
      retryWhenOpen = false;
      load();
    }
  });
  return load();
}
