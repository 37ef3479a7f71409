import { describe, expect, it } from 'vitest';
import { parseExemption } from '@vpc-guard/shared';

const NOW = new Date('2026-11-21T12:00:00Z');

describe('parseExemption', () => {
  it.each([
    [
      'until=2027-01-31; reason=vendor appliance',
      { state: 'valid', until: '2027-01-31', reason: 'vendor appliance' },
    ],
    [
      'Reason = CHG-7 ;  UNTIL = 2027-01-31 ',
      { state: 'valid', until: '2027-01-31', reason: 'CHG-7' },
    ],
    ['until=2026-11-21; reason=last day', { state: 'valid' }],
    ['until=2026-11-20; reason=gone', { state: 'expired', until: '2026-11-20' }],
    ['until=2026-13-01; reason=x', { state: 'malformed' }],
    ['until=; reason=x', { state: 'malformed' }],
    ['', { state: 'malformed' }],
  ])('reads "%s"', (value, expected) => {
    // Act
    const status = parseExemption(value, NOW, 366);
    // Assess
    expect(status).toMatchObject(expected);
  });

  it('reports no exemption when the tag is absent', () => {
    expect(parseExemption(undefined, NOW, 366)).toEqual({ state: 'none' });
  });
});
