/** Tokens of the CEL subset: numbers, strings (quoted, triple-quoted, raw), identifiers and operators. */
export class CelSyntaxError extends Error {
  readonly code = 'APISRV_ERR_CEL_SYNTAX';
}

export type Token =
  { type: 'number'; value: number; text: string } | { type: 'string'; value: string } | { type: 'ident'; value: string } | { type: 'op'; value: string } | { type: 'eof' };

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?' };

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < source.length) {
    const rest = source.slice(position);
    const space = /^(\s+|\/\/[^\n]*)/.exec(rest);
    if (space) {
      position += space[0].length;
      continue;
    }
    const number = /^(0[xX][0-9a-fA-F]+[uU]?|\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+([eE][+-]?\d+)?|\d+[uU]?)/.exec(rest);
    if (number && !/^\.\D/.test(rest)) {
      const text = number[0];
      tokens.push({ type: 'number', value: Number(text.replace(/[uU]$/, '')), text });
      position += text.length;
      continue;
    }
    const string = /^([rRbB]{0,2})('''|"""|'|")/.exec(rest);
    if (string) {
      const [value, length] = readString(source, position + string[1].length, string[2], /[rR]/.test(string[1]));
      tokens.push({ type: 'string', value });
      position += string[1].length + length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      tokens.push({ type: 'ident', value: ident[0] });
      position += ident[0].length;
      continue;
    }
    const operator = OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (!operator) throw new CelSyntaxError(`unexpected character '${rest[0]}' at ${position}`);
    tokens.push({ type: 'op', value: operator });
    position += operator.length;
  }
  tokens.push({ type: 'eof' });
  return tokens;
}

function readString(source: string, start: number, quote: string, raw: boolean): [string, number] {
  let index = start + quote.length;
  let value = '';
  while (index < source.length) {
    if (source.startsWith(quote, index)) return [value, index + quote.length - start];
    const char = source[index];
    if (char === '\\' && !raw) {
      const next = source[index + 1];
      const hex = /^(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/.exec(source.slice(index + 1));
      if (hex) {
        value += String.fromCodePoint(parseInt(hex[0].slice(1), 16));
        index += 1 + hex[0].length;
        continue;
      }
      const octal = /^[0-3][0-7]{2}/.exec(source.slice(index + 1));
      if (octal) {
        value += String.fromCharCode(parseInt(octal[0], 8));
        index += 4;
        continue;
      }
      if (!(next in ESCAPES)) throw new CelSyntaxError(`invalid escape \\${next}`);
      value += ESCAPES[next];
      index += 2;
      continue;
    }
    if ((char === '\n' || char === '\r') && quote.length === 1) throw new CelSyntaxError('newline in string literal');
    value += char;
    index += 1;
  }
  throw new CelSyntaxError('unterminated string literal');
}
