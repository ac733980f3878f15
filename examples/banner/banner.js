// The banner of the tutorial, written with the Tidings SDK: every click on the
// banner is broadcast with the user id and the time, so the logs page can
// list it. The message keeps the tutorial's shape.
import { start, connectWithStatus, report, keepQuery, newId } from '../shared/setup.js';

const banner = document.getElementById('banner');

async function connect() {
  keepQuery('a.keep');
  const app = await start();
  if (!app) return null;
  return connectWithStatus(app);
}

const ready = connect();

// The link opens in a new tab; the click is logged from this one.
banner.addEventListener('click', async () => {
  const ch = await ready;
  if (!ch) return;
  try {
    await ch.broadcast({
      name: 'demo-banner',
      type: 'banner',
      action: 'click',
      user_id: ch.userId,
      time: Date.now(),
      id: newId(),
    });
  } catch (err) {
    report(err);
  }
});
