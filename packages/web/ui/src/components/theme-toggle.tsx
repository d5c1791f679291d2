// A button that switches between the light and the dark theme; the choice outlives the session.
import { useState } from 'preact/hooks';
import { applyTheme, effectiveTheme, savedTheme } from '../theme.js';

export function ThemeToggle() {
  const [theme, setTheme] = useState(() => effectiveTheme(savedTheme()));
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      class="theme-toggle"
      data-testid="theme-toggle"
      aria-label="Dark theme"
      aria-pressed={theme === 'dark'}
      title={`Use the ${next} theme`}
      onClick={() => {
        applyTheme(next);
        setTheme(next);
      }}
    >
      <span aria-hidden="true">☾</span> Dark
    </button>
  );
}
