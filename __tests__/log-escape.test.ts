import { describe, expect, it } from '@jest/globals';
import { htmlText, logLine, logLines, visible } from '../src/io/log-escape.js';

/** The lines the runner would take for workflow commands: "::" after leading spaces, or "##[" anywhere. */
function commands(log: string): string[] {
  return log.split(/\r?\n/).filter((line) => line.trimStart().startsWith('::') || line.includes('##['));
}

describe('log escaping', () => {
  it('keeps %, CR, LF and other control characters on one visible line', () => {
    expect(visible('a%0Ab\r\nc\u001b[31m\u009bd\te')).toBe('a%250Ab%0D%0Ac%1B[31m%9Bd\te');
  });

  it('leaves no workflow command at the start of a line or in the legacy form anywhere', () => {
    expect(logLine('::add-mask::x')).toBe('%3A:add-mask::x');
    expect(logLine('  ::warning::x')).toBe('  %3A:warning::x');
    expect(logLine('signed: a\n::warning::x')).toBe('signed: a%0A::warning::x');
    expect(logLine('a ##[warning]x')).toBe('a ##%5Bwarning]x');
    expect(logLine('plain: C:\\out\\a.dll')).toBe('plain: C:\\out\\a.dll');
    expect(logLines('first\n::error::x\r\n##[error]y')).toBe('first\n%3A:error::x\n##%5Berror]y');
    for (const text of ['::a::b', '\n::a::b', ' \t::a::b', 'x\r::a::b', '##[a]b'])
      expect(commands(logLine(text))).toEqual([]);
  });

  it('shows markup as text in summary cells, on one line', () => {
    expect(htmlText(`<img src=x onerror="a('b')">&\n\n# h`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;%0A%0A# h',
    );
  });
});
