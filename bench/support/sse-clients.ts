// The SSE clients of `bench/api.ts`, in a child process of their own (as browsers are elsewhere than the
// web server): argv url, token, run id, client count. Each client connects to GET /api/events/stream;
// once every one has its `ready` event the process sends {ready: true}; for every `change` of the run
// it notes (try number, receipt time), and on the message 'stop' it sends {receipts} and exits. Times
// are performance.timeOrigin + performance.now(): the same clock as the parent's, across processes.
const [url, token, runId, count] = process.argv.slice(2) as [string, string, string, string];
const clients = Number(count);
const now = () => performance.timeOrigin + performance.now();
/** [client, try number, receipt time] per change received. */
const receipts: Array<[number, number, number]> = [];
const aborts = new AbortController();

async function client(index: number, ready: () => void): Promise<void> {
  const response = await fetch(`${url}/api/events/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: aborts.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const at = now();
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const event = /^event: (.*)$/m.exec(block)?.[1];
        if (event === 'ready') ready();
        if (event !== 'change') continue;
        const change = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as {
          runId: string;
          tasks?: Array<{ tryNumber: number }>;
        };
        const sequence = change.tasks?.[0]?.tryNumber;
        if (change.runId === runId && sequence !== undefined) receipts.push([index, sequence, at]);
      }
    }
  } catch (error) {
    if (!aborts.signal.aborted) throw error;
  }
}

const running: Array<Promise<void>> = [];
const readies = Array.from(
  { length: clients },
  (_, index) => new Promise<void>((resolve) => running.push(client(index, resolve))),
);
process.on('message', async (message) => {
  if (message !== 'stop') return;
  aborts.abort();
  await Promise.allSettled(running);
  process.send!({ receipts }, () => process.exit(0));
});
await Promise.all(readies);
process.send!({ ready: true });
