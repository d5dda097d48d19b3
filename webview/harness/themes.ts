/** Applies a theme of themeVariables.ts to the harness page, as VS Code does to a webview. */
import { bodyClass, COMMON, THEMES, type ThemeName } from './themeVariables';

export type { ThemeName } from './themeVariables';

/** Set the variables on <html> and the body class VS Code sets (`vscode-light`, `vscode-dark`, ...). */
export function applyTheme(name: ThemeName): void {
  const vars = THEMES[name] ?? THEMES.light;
  const root = document.documentElement;
  for (const [k, v] of Object.entries({ ...COMMON, ...vars })) root.style.setProperty(k, v);
  const apply = (): void => {
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
    document.body.classList.add(bodyClass(name));
  };
  if (document.body) apply();
  else document.addEventListener('DOMContentLoaded', apply);
}
