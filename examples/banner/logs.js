// The logs page of the banner tutorial, written with the Tidings SDK: every
// banner click stored in the stream, with the user and a readable time, and
// a counter; new clicks appear live.
import { start, connectWithStatus, report, keepQuery } from '../shared/setup.js';
import { follow } from '../shared/feed.js';

const logs = document.getElementById('logs');
const counter = document.getElementById('click-counter');
let clicks = 0;

const isClick = (m) => !!m && m.type === 'banner' && m.action === 'click' &&
  !!m.user_id && typeof m.time === 'number' && !isNaN(m.time);

function addClick(m) {
  const time = new Date(m.time).toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
  const item = document.createElement('li');
  item.textContent = `The user with ID ${m.user_id} clicked the banner at ${time}`;
  logs.append(item);
  logs.scrollTop = logs.scrollHeight;
  counter.textContent = String(++clicks);
}

function clear() {
  logs.replaceChildren();
  clicks = 0;
  counter.textContent = '0';
}

async function main() {
  keepQuery('a.keep');
  const app = await start();
  if (!app) return;
  const ch = await connectWithStatus(app);
  if (!ch) return;
  await follow(ch, { accept: isClick, add: addClick, clear, failed: report });
}

main();
