/**
 * A strict RFC 4180 reader for the tests: records end with CRLF, a field is either plain (no
 * quote, comma, CR or LF) or quoted (a quote inside written twice). Returns each field as a
 * string, or null for an empty unquoted field (the export's missing text). Throws on anything
 * else, so that a malformed export fails the test that reads it.
 */
export function parseCsv(input: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let i = 0;
  while (i < input.length) {
    const record: (string | null)[] = [];
    for (;;) {
      let field: string | null;
      if (input[i] === '"') {
        let value = '';
        i++;
        for (;;) {
          const quote = input.indexOf('"', i);
          if (quote === -1) throw new Error(`unterminated quoted field at ${i}`);
          value += input.slice(i, quote);
          if (input[quote + 1] === '"') {
            value += '"';
            i = quote + 2;
          } else {
            i = quote + 1;
            break;
          }
        }
        field = value;
      } else {
        let end = i;
        while (end < input.length && !',\r\n"'.includes(input[end] as string)) end++;
        if (input[end] === '"') throw new Error(`quote inside a plain field at ${end}`);
        field = end === i ? null : input.slice(i, end);
        i = end;
      }
      record.push(field);
      if (input[i] === ',') {
        i++;
        continue;
      }
      if (input.startsWith('\r\n', i)) {
        i += 2;
        break;
      }
      throw new Error(`expected , or CRLF at ${i}, found ${JSON.stringify(input[i] ?? 'end')}`);
    }
    records.push(record);
  }
  return records;
}
