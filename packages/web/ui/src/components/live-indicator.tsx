// Whether the page updates live (the event stream is open) or only every so often (it is down).
import { useLiveStatus } from '../live.js';

const TEXT = { live: 'Live', connecting: 'Connecting…', down: 'Reconnecting…' } as const;

export function LiveIndicator() {
  const status = useLiveStatus();
  if (status === 'idle') return <span role="status" data-testid="live-status" />;
  return (
    <span
      class={`live live-${status}`}
      role="status"
      data-testid="live-status"
      title={status === 'live' ? 'Updates arrive as they happen' : 'Updates paused; the page reads again every 30 s'}
    >
      <span class="live-dot" aria-hidden="true" /> {TEXT[status]}
    </span>
  );
}
