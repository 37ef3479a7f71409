import { escapeControlCharacters } from '@vpc-guard/shared/report/ansi';

/**
 * The CLI's only door to the terminal: everything vpc-guard prints goes through a {@link Printer}, so
 * that reports reach stdout untouched (pipe-safe for json and sarif) and messages go to stderr.
 */

/** Where the CLI's output goes. */
export interface Printer {
  /** Writes the product (a report) to stdout, exactly as given. */
  out(text: string): void;
  /** Writes a message (an error, a note) to stderr, exactly as given. */
  err(text: string): void;
  /** True when stdout is a terminal (colour is only ever used then). */
  readonly stdoutIsTerminal: boolean;
}

/** A printer on the process's own stdout and stderr. */
export function createProcessPrinter(): Printer {
  // A reader that stops early (`vpc-guard scan | head`) is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return {
    out: (text) => {
      process.stdout.write(text);
    },
    err: (text) => {
      process.stderr.write(text);
    },
    stdoutIsTerminal: process.stdout.isTTY === true,
  };
}

/**
 * The printer commands get: messages on stderr quote file contents, AWS answers and error texts, so
 * their control characters are shown (`\x1b`), keeping line breaks; a value cannot clear the screen or
 * rewrite a line above. Reports on stdout are untouched here: each renderer escapes for its format.
 */
export function withEscapedMessages(printer: Printer): Printer {
  return {
    out: (text) => printer.out(text),
    err: (text) => printer.err(escapeControlCharacters(text, { keepNewlines: true })),
    stdoutIsTerminal: printer.stdoutIsTerminal,
  };
}
