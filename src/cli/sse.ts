/** Reads a Server-Sent Events body: yields each message's event name and data text. */
export async function* sseMessages(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  let event = 'message';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === '') event = 'message';
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) yield { event, data: line.slice(6) };
    }
  }
}
