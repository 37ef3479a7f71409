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
