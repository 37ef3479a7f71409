/**
 * ANSI styling for the plan and record renderers. The renderers take `color` as an option; the CLI
 * turns it on only for a terminal without `NO_COLOR`.
 */

/** The styles the renderers use. */
export type AnsiStyle = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const CODES: Readonly<Record<AnsiStyle, string>> = {
  bold: '1',
  dim: '2',
  red: '31',
  green: '32',
  yellow: '33',
  cyan: '36',
};

/** Styles a text, or returns it unchanged. */
export type Paint = (text: string, ...styles: AnsiStyle[]) => string;

/** A {@link Paint} that styles when `color` is true and is the identity otherwise. */
export function ansiPainter(color: boolean): Paint {
  if (!color) return (text) => text;
  return (text, ...styles) =>
    styles.length === 0 || text === ''
      ? text
      : `\u001b[${styles.map((style) => CODES[style]).join(';')}m${text}\u001b[0m`;
}

/**
 * What a terminal would act on rather than show: C0 and C1 control characters (ESC, CSI, BEL, CR,
 * ...), DEL, and the Unicode line separators and bidirectional overrides that reorder or hide text.
 */
const TERMINAL_CONTROLS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visibleEscape(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u{${code.toString(16).padStart(4, '0')}}`;
}

/** Options of {@link escapeControlCharacters}. */
export interface EscapeControlCharactersOptions {
  /** Keep line breaks (`\n`): for multi-line messages, where each line is the program's own. @default false */
  readonly keepNewlines?: boolean;
}

/**
 * Text from outside (AWS, a file, an error) made safe to print: every control character is shown as
 * an escape (`\x1b`, `\x07`, `\x9b`, `\u{202e}`), so a tag value can neither move a terminal's
 * cursor, clear the screen, retitle the window, draw a hyperlink, nor hide or reorder text, nor break
 * a line of Markdown or Slack text. Printable text is left as it is. The terminal reports use it as
 * is; the Markdown and Slack escapers build on it.
 */
export function escapeControlCharacters(
  text: string,
  options: EscapeControlCharactersOptions = {},
): string {
  const keepNewlines = options.keepNewlines ?? false;
  return text.replace(TERMINAL_CONTROLS, (character) =>
    keepNewlines && character === '\n' ? character : visibleEscape(character),
  );
}
