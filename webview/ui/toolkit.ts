/**
 * The one module that touches @vscode/webview-ui-toolkit: the views build their controls through these
 * factories, so swapping the toolkit (for @vscode-elements/elements) changes this file only.
 */
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption, vsCodeProgressRing, vsCodeTextField } from '@vscode/webview-ui-toolkit';

let registered = false;

/** Register the toolkit's custom elements once. */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTextField());
}

/** A choice in a dropdown. */
export interface Choice {
  value: string;
  label: string;
}

/** A control whose value the views read and set as a string. */
export interface ValueControl {
  element: HTMLElement;
  get value(): string;
  set value(v: string);
}

/** A labelled dropdown; `onChange` gets the chosen value. */
export function dropdown(label: string, choices: readonly Choice[], value: string, onChange: (v: string) => void): ValueControl {
  const wrap = document.createElement('label');
  wrap.className = 'pl-control';
  const text = document.createElement('span');
  text.textContent = label;
  const dd = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  dd.setAttribute('aria-label', label);
  for (const c of choices) {
    const opt = document.createElement('vscode-option') as HTMLElement & { value: string };
    opt.setAttribute('value', c.value);
    opt.textContent = c.label;
    if (c.value === value) opt.setAttribute('selected', '');
    dd.appendChild(opt);
  }
  dd.addEventListener('change', () => onChange(dd.value));
  wrap.append(text, dd);
  return {
    element: wrap,
    get value() {
      return dd.value;
    },
    set value(v: string) {
      dd.value = v;
    },
  };
}

/** A text field that reports Enter; its label is read by screen readers, not shown (the placeholder is). */
export function searchField(label: string, placeholder: string, onSubmit: (v: string) => void): ValueControl {
  const tf = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  // The toolkit sets aria-label from the text content when connected, overwriting one set here with
  // "Text field"; the label goes in as text, and the `label` part is hidden by the .pl-search rule.
  tf.textContent = label;
  tf.setAttribute('placeholder', placeholder);
  tf.className = 'pl-search';
  tf.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') onSubmit(tf.value);
  });
  return {
    element: tf,
    get value() {
      return tf.value ?? '';
    },
    set value(v: string) {
      tf.value = v;
    },
  };
}

/** A button; `secondary` for the less prominent look. */
export function button(label: string, onClick: () => void, opts: { secondary?: boolean; ariaLabel?: string; title?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (opts.secondary) b.setAttribute('appearance', 'secondary');
  b.setAttribute('aria-label', opts.ariaLabel ?? label);
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', onClick);
  return b;
}

/** A checkbox with a label. */
export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void): HTMLElement & { checked: boolean } {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  c.checked = checked;
  if (checked) c.setAttribute('checked', '');
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

/** A progress indicator whose share done the views set (0..1) and whose text says what is going on. */
export interface ProgressControl {
  element: HTMLElement;
  set(fraction: number, text: string): void;
}

/**
 * The toolkit's progress ring (it only spins: it has no determinate form) beside a bar of the share done,
 * drawn in the toolkit's progress colour, and a line of text; one `progressbar` for screen readers.
 */
export function progress(label: string): ProgressControl {
  const wrap = document.createElement('div');
  wrap.className = 'pl-progress';
  wrap.setAttribute('role', 'progressbar');
  wrap.setAttribute('aria-label', label);
  wrap.setAttribute('aria-valuemin', '0');
  wrap.setAttribute('aria-valuemax', '100');
  const ring = document.createElement('vscode-progress-ring');
  // The ring is decoration here: the bar carries the value (the toolkit makes the ring an assertive alert).
  ring.setAttribute('aria-hidden', 'true');
  const track = document.createElement('div');
  track.className = 'pl-progress-track';
  const fill = document.createElement('div');
  fill.className = 'pl-progress-fill';
  track.append(fill);
  const text = document.createElement('span');
  text.className = 'pl-progress-text';
  wrap.append(ring, track, text);
  return {
    element: wrap,
    set(fraction: number, t: string) {
      const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
      fill.style.width = `${pct}%`;
      wrap.setAttribute('aria-valuenow', String(pct));
      wrap.setAttribute('aria-valuetext', t);
      text.textContent = t;
    },
  };
}
