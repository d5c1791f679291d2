// The colour theme: the system's (prefers-color-scheme) unless the user picked light or dark, which is
// remembered in localStorage. The choice is an attribute on <html> that styles.css reads.

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'batuta.theme';

export function savedTheme(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system'; // storage may be blocked; the system's theme is a fine default
  }
}

/** Applies a choice to the page and remembers it. */
export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Not remembered, still applied.
  }
}

/** The theme in effect: the choice, or the system's when there is none. */
export function effectiveTheme(choice: ThemeChoice): 'light' | 'dark' {
  if (choice !== 'system') return choice;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
