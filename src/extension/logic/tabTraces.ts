import { detectTraceLanguage, DETECT_HEAD_BYTES, type TraceLanguage } from './languages';

/**
 * Files above this size never reach extensions as TextDocuments (VS Code's sync limit), so a 103 MB trace
 * opened from Quick Open or the Explorer fires no onDidOpenTextDocument: the extension has to notice it
 * from its tab (docs/performance.md, "VS Code").
 */
export const DOCUMENT_SYNC_MAX_BYTES = 50 * 1024 * 1024;

// The names package.json gives the trace languages (extensions and filenamePatterns).
const NAMED: [RegExp, TraceLanguage][] = [
  [/\.(pltrace|plsnap)$/i, 'pageledger'],
  [/\.(ftrace|kmemtrace)$|\.(ftrace|trace-cmd|perf-script)\.txt$/i, 'kmem-trace'],
  [/\.(page_owner|pageowner)$|(^|[\\/])page_owner[^\\/]*\.txt$|\.page_owner\.txt$/i, 'page-owner'],
];

/** The trace language a file's name alone gives it, or undefined when the name says nothing. */
export function traceLanguageByName(fileName: string): TraceLanguage | undefined {
  for (const [re, lang] of NAMED) if (re.test(fileName)) return lang;
  return undefined;
}

/** Whether a file with a generic name is worth reading the head of (the names content detection looks at). */
export function wantsHeadDetection(fileName: string): boolean {
  return /\.(txt|log|dat)$/i.test(fileName);
}

/**
 * Whether a text tab's file is a trace the extension would not otherwise see: larger than the document
 * sync limit, and a trace by its name or (for .txt/.log/.dat, when content detection is on) by the first
 * DETECT_HEAD_BYTES of it, which `readHead` returns.
 */
export function isLargeTraceTab(fileName: string, size: number, detectContent: boolean, readHead: () => string | undefined): boolean {
  if (size <= DOCUMENT_SYNC_MAX_BYTES) return false;
  if (traceLanguageByName(fileName)) return true;
  if (!detectContent || !wantsHeadDetection(fileName)) return false;
  const head = readHead();
  return head !== undefined && detectTraceLanguage(head.slice(0, DETECT_HEAD_BYTES)) !== undefined;
}
