import { existsSync } from 'node:fs';
import * as vscode from 'vscode';

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let k = 0; k < 32; k++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

/** Webview options that let a view load its own bundle and the extension's media, nothing else. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')] };
}

/**
 * The HTML shell of a webview bundle (`dist/webview/<name>.js` and its `.css`): a strict CSP with a nonce,
 * so the page runs nothing but that script and talks to the host only by messages.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, name: string, title: string): string {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${name}.js`));
  const cssPath = vscode.Uri.joinPath(dist, `${name}.css`);
  const css = existsSync(cssPath.fsPath) ? `<link rel="stylesheet" href="${webview.asWebviewUri(cssPath).toString()}">` : '';
  const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource} 'nonce-${n}'`, `font-src ${webview.cspSource}`, `script-src 'nonce-${n}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${css}
<title>${title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
}
