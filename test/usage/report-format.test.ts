import { describe, expect, it } from 'vitest';
import type { UsageTotalsRow } from '../../src/usage/ledger.js';
import { formatCsv, formatTable, formatTotals, isReportFormat } from '../../src/usage/report-format.js';

const rows: UsageTotalsRow[] = [
  {
    keyId: 'key_a',
    model: 'tiny',
    requests: 12,
    promptTokens: 1200,
    completionTokens: 34,
    totalTokens: 1234,
    completed: 10,
    cancelled: 1,
    errors: 1,
  },
  {
    keyId: null,
    model: 'a "quoted", model',
    requests: 1,
    promptTokens: 5,
    completionTokens: 5,
    totalTokens: 10,
    completed: 1,
    cancelled: 0,
    errors: 0,
  },
];

describe('formatTotals', () => {
  it('prints an aligned table, numbers to the right', () => {
    expect(formatTotals(rows, 'table')).toBe(
      'key     model              requests  prompt_tokens  completion_tokens  total_tokens  completed  cancelled  errors\n' +
        'key_a   tiny                     12           1200                 34          1234         10          1       1\n' +
        '(none)  a "quoted", model         1              5                  5            10          1          0       0\n',
    );
  });

  it('says so when there is nothing to show', () => {
    expect(formatTotals([], 'table')).toBe('No usage recorded for this selection.\n');
    expect(formatTotals([], 'json')).toBe('[]\n');
    expect(formatTotals([], 'csv')).toBe(
      'key,model,requests,prompt_tokens,completion_tokens,total_tokens,completed,cancelled,errors\r\n',
    );
  });

  it('prints JSON that parses back to the rows', () => {
    expect(JSON.parse(formatTotals(rows, 'json'))).toEqual(rows);
  });

  it('prints RFC 4180 CSV', () => {
    expect(formatTotals(rows, 'csv')).toBe(
      'key,model,requests,prompt_tokens,completion_tokens,total_tokens,completed,cancelled,errors\r\n' +
        'key_a,tiny,12,1200,34,1234,10,1,1\r\n' +
        '(none),"a ""quoted"", model",1,5,5,10,1,0,0\r\n',
    );
  });
});

describe('formatCsv', () => {
  it('quotes fields with commas, quotes and line breaks', () => {
    expect(
      formatCsv(
        ['a', 'b'],
        [
          ['x,y', 'line\nbreak'],
          ['cr\rhere', 'plain'],
        ],
      ),
    ).toBe('a,b\r\n"x,y","line\nbreak"\r\n"cr\rhere",plain\r\n');
  });

  it('defuses text a spreadsheet would run as a formula, but not numbers', () => {
    expect(formatCsv(['m'], [['=HYPERLINK("x")'], ['+1'], ['-1'], ['@sum'], [-5]])).toBe(
      'm\r\n"\'=HYPERLINK(""x"")"\r\n\'+1\r\n\'-1\r\n\'@sum\r\n-5\r\n',
    );
  });
});

describe('formatTable', () => {
  it('replaces control characters so client text cannot drive the terminal', () => {
    expect(formatTable(['model'], [['evil\u001b[2Jname']])).toBe('model\nevil?[2Jname\n');
  });
});

describe('isReportFormat', () => {
  it('knows table, json and csv only', () => {
    expect(['table', 'json', 'csv', 'xml'].map(isReportFormat)).toEqual([true, true, true, false]);
  });
});
