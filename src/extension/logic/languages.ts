import { detectFormat } from '../../core/formats/registry';

/** The language ids the extension contributes. */
export const TRACE_LANGUAGES = ['pageledger', 'kmem-trace', 'page-owner'] as const;
/** One of TRACE_LANGUAGES. */
export type TraceLanguage = (typeof TRACE_LANGUAGES)[number];

/** File extensions that name a file a trace (package.json: the languages' extensions, workspaceContains). */
export const TRACE_FILE_EXTENSIONS = ['pltrace', 'plsnap', 'ftrace', 'kmemtrace', 'page_owner', 'pageowner'] as const;

/** A glob for files with one of TRACE_FILE_EXTENSIONS, anywhere in a workspace. */
export const TRACE_FILES_GLOB = `**/*.{${TRACE_FILE_EXTENSIONS.join(',')}}`;

/** Bytes of a file's head looked at to detect its language (the same head the core detects formats on). */
export const DETECT_HEAD_BYTES = 64 * 1024;

/** The language that shows a detected trace format, by the format's name. */
export function languageForFormat(format: string): TraceLanguage | undefined {
  const f = format.toLowerCase();
  if (f === 'pageledger' || f.startsWith('pageledger') || f === 'native' || f === 'snapshot-log') return 'pageledger';
  if (/page.?owner/.test(f)) return 'page-owner';
  if (/ftrace|trace-cmd|perf|kmem/.test(f)) return 'kmem-trace';
  return undefined;
}

// Used when no registered format claims the head (a format module not bundled, or a capture the parser
// rejects): the text still deserves its colours.
const FALLBACKS: [RegExp, TraceLanguage][] = [
  [/^pageledger-(trace|snapshot) \d+\s*$/m, 'pageledger'],
  [/^Page allocated via order \d+/m, 'page-owner'],
  [/^#\s*tracer:|^cpus=\d+\s*$|\[\d{3}\][^\n]*\d+\.\d+:\s*mm_(page|filemap)_\w+:/m, 'kmem-trace'],
];

/** The trace language of a file whose head is `head`, or undefined when it is not a trace. */
export function detectTraceLanguage(head: string): TraceLanguage | undefined {
  const byFormat = detectFormat(head);
  const lang = byFormat ? languageForFormat(byFormat.name) : undefined;
  if (lang) return lang;
  for (const [re, l] of FALLBACKS) if (re.test(head)) return l;
  return undefined;
}

/**
 * Whether a document is a candidate for content detection: a `.txt`, `.log` or `.dat` file (any case,
 * optionally gzipped names excluded since the editor cannot show those) still in a generic language.
 */
export function wantsContentDetection(fileName: string, languageId: string): boolean {
  if (!['plaintext', 'log', 'Log'].includes(languageId)) return false;
  return /\.(txt|log|dat)$/i.test(fileName);
}
