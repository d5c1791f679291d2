// A rollout's split as one horizontal bar: a segment per version sized by its share of the traffic, the
// holdout (requests routed around every model) first; the shares are also written out for screen readers.
const percent = (share: number) => `${Math.round(share * 1000) / 10} %`;

export function SplitBar({ split, holdout }: { split: Record<string, number>; holdout: number }) {
  const entries = Object.entries(split).map(([version, share]) => [version, share * (1 - holdout)] as const);
  const segments = holdout > 0 ? [['holdout', holdout] as const, ...entries] : entries;
  const colour = (name: string) =>
    name === 'holdout' ? 'split-holdout' : `split-${entries.findIndex(([version]) => version === name) % 4}`;
  const text = segments.map(([name, share]) => `${name} ${percent(share)}`).join(', ');
  if (segments.length === 0) return <p class="muted">No fixed split: a bandit routes each request by its rewards.</p>;
  return (
    <div class="split" data-testid="split-bar">
      <div class="split-bar" role="img" aria-label={`Traffic split: ${text}`}>
        {segments.map(([name, share]) => (
          <span
            key={name}
            class={`split-part ${colour(name)}`}
            style={{ width: `${share * 100}%` }}
            title={`${name} ${percent(share)}`}
          />
        ))}
      </div>
      <ul class="split-legend">
        {segments.map(([name, share]) => (
          <li key={name} data-testid={`split-${name}`}>
            <span class={`swatch ${colour(name)}`} aria-hidden="true" />
            {name} {percent(share)}
          </li>
        ))}
      </ul>
    </div>
  );
}
