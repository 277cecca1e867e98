// Posting updates to a bot's webhook by hand, as Telegram would (tests of several bot processes, of
// ordering across them and of redelivery): one text message per update, a command entity when the
// text is a command.

let nextUpdateId = 3_000_000 + Math.floor(Math.random() * 5_000_000);

/** A private-chat text message update from `chatId` (the sender is the chat). */
export function textUpdate(chatId: number, firstName: string, text: string, updateId = nextUpdateId++) {
  const command = text.startsWith('/') ? text.split(' ')[0]!.length : 0;
  return {
    update_id: updateId,
    message: {
      message_id: updateId % 100_000,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: firstName },
      from: { id: chatId, is_bot: false, first_name: firstName, language_code: 'zh-hans' },
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command }] } : {}),
    },
  };
}

/** POSTs `update` to a webhook URL with the installation's secret header. */
export function postUpdate(url: string, secret: string, update: object): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify(update),
  });
}
