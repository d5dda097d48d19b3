// The webview bundles live in webview/ownership and webview/diff.
export {};
