import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../functions/runtime/config';
import {
  NOTHING_PUBLISHED,
  SINKS,
  configuredSinks,
  publishedCounts,
} from '../../functions/runtime/sinks/registry';
import { ALERT_SINKS } from '../../shared/src/findings/state';
import { TEST_ENVIRONMENT } from './support/harness';

/** The sink registry: one sink per stored alert name, configured from the environment. */

describe('the alert sink registry', () => {
  it('has one sink for every name an owed alert is stored under, and no other', () => {
    // Act
    const names = SINKS.map((sink) => sink.name);

    // Assess
    expect([...names].sort()).toEqual([...ALERT_SINKS].sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    { topic: true, securityHub: 'on', expected: ['sns', 'securityhub'] },
    { topic: true, securityHub: 'off', expected: ['sns'] },
    { topic: false, securityHub: 'on', expected: ['securityhub'] },
    { topic: false, securityHub: 'off', expected: [] },
  ])(
    'alerts through $expected with a topic $topic and Security Hub $securityHub',
    ({ topic, securityHub, expected }) => {
      // Prepare: the config rule is the one function that may run without a topic.
      const { TOPIC_ARN, ...rest } = TEST_ENVIRONMENT;
      const config = loadRuntimeConfig('config-rule', {
        ...rest,
        ...(topic ? { TOPIC_ARN } : {}),
        SECURITY_HUB: securityHub,
      });

      // Act
      const names = configuredSinks(config).map((sink) => sink.name);

      // Assess
      expect(names).toEqual(expected);
    },
  );

  it('counts what was published under the report keys, one per sink', () => {
    // Act
    const counts = publishedCounts((sink) => (sink.name === 'sns' ? 2 : 5));

    // Assess
    expect(counts).toEqual({ sns: 2, securityHub: 5 });
    expect(NOTHING_PUBLISHED).toEqual({ sns: 0, securityHub: 0 });
  });
});
