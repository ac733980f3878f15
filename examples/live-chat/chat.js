// The live chat of the tutorial, written with the Tidings SDK: a username and
// message form, a live list, and the full history after a reload or in a new
// tab. Messages keep the tutorial's shape ({username, type: 'chat',
// message_text}), so tutorial-style pages on the same stream see them too.
import { start, connectWithStatus, report, keepQuery, newId } from '../shared/setup.js';
import { follow } from '../shared/feed.js';

const list = document.getElementById('list');
const form = document.getElementById('form');
const usernameField = document.getElementById('username');
const messageField = document.getElementById('message');
const sendButton = form.querySelector('button');

const isChat = (m) => !!m && m.type === 'chat' && typeof m.username === 'string' &&
  typeof m.message_text === 'string' && m.username !== '' && m.message_text !== '';

// User text goes in with textContent only: a name like <img onerror=…> is
// shown as typed and never parsed as HTML.
function addMessage(m) {
  const item = document.createElement('li');
  const name = document.createElement('strong');
  name.textContent = m.username;
  item.append(name, `: ${m.message_text}`);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

async function main() {
  keepQuery('a.keep');
  usernameField.value = localStorage.getItem('tidings-chat-username') || '';
  const app = await start();
  if (!app) return;
  const ch = await connectWithStatus(app);
  if (!ch) return;
  ch.on('ended', () => { sendButton.disabled = true; });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = usernameField.value.trim();
    const text = messageField.value;
    if (!username || !text) return;
    localStorage.setItem('tidings-chat-username', username);
    sendButton.disabled = true;
    try {
      await ch.broadcast({ username, type: 'chat', message_text: text, id: newId() });
      messageField.value = ''; // our own message shows when it comes back
    } catch (err) {
      report(err);
    } finally {
      sendButton.disabled = ch.state === 'closed';
      messageField.focus();
    }
  });
  sendButton.disabled = false;

  await follow(ch, {
    accept: isChat,
    add: addMessage,
    clear: () => list.replaceChildren(),
    failed: report,
  });
}

main();
