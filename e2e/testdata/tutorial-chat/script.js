// The live chat tutorial's script.js, put together the way the tutorial
// builds it step by step: plain EventSource and fetch, no SDK. The test
// changes only the three values the tutorial tells its reader to change.
const streamId = 15;
const baseUrl = 'https://channel.inlive.app';
const subscribeUrl = `${baseUrl}/subscribe/${streamId}`;
const eventSource = new EventSource(subscribeUrl);
const widgetKey = '<YOUR_WIDGET_KEY>';

let token = '';

const fetchRequest = async ({ url = '', method = '', body }) => {
  const options = {
    method: method,
    headers: {
      'Content-Type': 'application/json',
    },
    body: typeof body === 'object' ? JSON.stringify(body) : null
  }

  try {
    const response = await fetch(url, options);
    return response.json();
  } catch (error) {
    console.error(error);
  }
}

const usernameField = document.getElementById('username');
const messageField = document.getElementById('message');
const form = document.getElementById('form');

form && form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = usernameField.value;
  const message = messageField.value;

  const sendMessageBody = {
    message: {
      username: username,
      type: 'chat',
      message_text: message
    },
    widget_key: widgetKey,
    type: 'broadcast'
  }

  const sendMessageUrl = `${baseUrl}/publish/${streamId}?token=${token}`;
  const data = await fetchRequest({
    url: sendMessageUrl,
    method: 'post',
    body: sendMessageBody
  });

  if (data.code !== 200) {
    alert(data.message);
  } else {
    messageField.value = '';
  }
});

const createChatMessage = (username, messageText) => {
  if (username && messageText) {
    const listElement = document.createElement('li');
    const strongElement = document.createElement('strong');

    strongElement.textContent = username;
    listElement.append(strongElement);
    listElement.append(`: ${messageText}`);

    return listElement;
  }

  return null;
}

const chatList = document.getElementById('list');

const getAllMessages = async () => {
  const getAllMessageBody = {
    type: 'request',
    widget_key: widgetKey,
  };

  const getAllMessagesUrl = `${baseUrl}/publish/${streamId}?token=${token}`;
  const data = await fetchRequest({
    url: getAllMessagesUrl,
    method: 'post',
    body: getAllMessageBody
  });

  if (data.code !== 200) {
    alert(data.message);
  }
};

eventSource.addEventListener('message', (event) => {
  if (event?.data) {
    const data = JSON.parse(event.data);
    const messageData = data.message;

    if (data.type === 'init') {
      token = messageData?.token;
      getAllMessages();

    } else if (messageData) {
      if (Array.isArray(messageData)) {
        const filteredMessages = messageData.filter((messageItem) => {
          const { message } = messageItem;
          return message && message.type === 'chat';
        });

        filteredMessages.forEach((filteredItem) => {
          const { message } = filteredItem;

          if (message) {
            const { username, message_text } = message;
            const chatMessage = createChatMessage(username, message_text);

            if (chatMessage && chatList) {
              chatList.appendChild(chatMessage);
            }
          }
        });
      } else {
        const { username, message_text } = messageData;
        const chatMessage = createChatMessage(username, message_text);

        if (chatMessage && chatList) {
          chatList.appendChild(chatMessage);
        }
      }
    }
  }
});

eventSource.addEventListener('error', (event) => {
  if (eventSource.readyState === EventSource.CLOSED) {
    console.log('Connection was closed');
  }
  console.log(event);
});
