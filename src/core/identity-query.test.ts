import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { parseIdentityQuery, parseOrder } from './identity-query.js';
import { refusal } from './test-refusal.js';

const NOW = 1_700_000_000_000_000;

const query = (params: Parameters<typeof parseIdentityQuery>[0]) => parseIdentityQuery(params, NOW);

describe('parseIdentityQuery', () => {
  it('filters nothing but keeps the time when no parameter is given', () => {
    expect(query({})).toEqual({ now: NOW });
  });

  it('passes ipaddress, before and after through', () => {
    expect(query({ ipaddress: '10.0.0.1', before: 5, after: 2 })).toEqual({
      now: NOW,
      ipaddress: '10.0.0.1',
      before: 5,
      after: 2,
    });
  });

  it('ignores version, which the reference does not implement', () => {
    expect(query({ version: '2' })).toEqual({ now: NOW });
  });

  describe('status', () => {
    it('reads a comma-separated list of lifecycle statuses', () => {
      expect(query({ status: 'locked,expired' }).statuses).toEqual(['locked', 'expired']);
      expect(query({ status: ' provisioned , whitelisted,reprovision' }).statuses).toEqual([
        'provisioned',
        'whitelisted',
        'reprovision',
      ]);
    });

    it('reads each repeated status once', () => {
      expect(query({ status: 'locked,locked' }).statuses).toEqual(['locked']);
    });

    it('turns online and offline into a connectivity filter apart from the lifecycle', () => {
      expect(query({ status: 'online' })).toEqual({ now: NOW, online: true });
      expect(query({ status: 'offline,locked' })).toEqual({ now: NOW, online: false, statuses: ['locked'] });
    });

    it('does not filter on connectivity when both online and offline are asked for', () => {
      expect(query({ status: 'online,offline' })).toEqual({ now: NOW });
    });

    it('refuses an unknown status naming "status" and the status', () => {
      for (const status of ['active', 'Locked', 'locked,', '']) {
        const error = refusal(() => query({ status }));
        expect(error.parameter).toBe('status');
      }
      expect(refusal(() => query({ status: 'locked,bogus' })).message).toContain('"bogus"');
    });
  });

  describe('identity', () => {
    it('keeps a valid RE2 pattern', () => {
      expect(query({ identity: '^a.' }).identityPattern).toBe('^a.');
      expect(query({ identity: '(?i)^DEV-[0-9]+$' }).identityPattern).toBe('(?i)^DEV-[0-9]+$');
    });

    it('refuses an invalid pattern naming "identity"', () => {
      for (const identity of ['[', '(a', 'a{1001}', '*a']) {
        const error = refusal(() => query({ identity }));
        expect(error.parameter, identity).toBe('identity');
        expect(error.message).toMatch(/not a valid regular expression/);
      }
    });

    it('refuses backreferences and lookarounds, which cannot run in linear time', () => {
      for (const identity of ['(a)\\1', '(?=a)b', '(?!a)b', '(?<=a)b']) {
        expect(refusal(() => query({ identity })).parameter, identity).toBe('identity');
      }
    });

    it('accepts a catastrophic-backtracking pattern that RE2 then runs to completion', () => {
      // Under a backtracking engine this takes exponential time; RE2 is linear in the input.
      const pattern = query({ identity: '(a+)+$' }).identityPattern!;
      const hostile = 'a'.repeat(100_000) + '!';
      const compiled = RE2JS.compile(pattern);
      expect(compiled.test(hostile)).toBe(false);
      expect(compiled.test('a'.repeat(100_000))).toBe(true);
      expect(RE2JS.compile('(a|aa)+b').test('a'.repeat(100_000))).toBe(false);
    });
  });

  describe('tag, tag.name and tag.value', () => {
    it('reads the tag name from "tag" or "tag.name"', () => {
      expect(query({ tag: 'site' }).tagName).toBe('site');
      expect(query({ 'tag.name': 'site' }).tagName).toBe('site');
      expect(query({ tag: 'site', 'tag.name': 'site' }).tagName).toBe('site');
    });

    it('refuses "tag" and "tag.name" naming different tags', () => {
      expect(refusal(() => query({ tag: 'site', 'tag.name': 'room' })).parameter).toBe('tag.name');
    });

    it('filters on a tag value only together with its name', () => {
      expect(query({ tag: 'site', 'tag.value': 'lyon' })).toEqual({
        now: NOW,
        tagName: 'site',
        tagValue: 'lyon',
      });
      expect(query({ tag: 'site', 'tag.value': '' }).tagValue).toBe('');
      expect(refusal(() => query({ 'tag.value': 'lyon' })).parameter).toBe('tag.value');
    });

    it('refuses "tags" together with "tag" or "tag.name"', () => {
      const tags = '[{"name":"a","operator":"eq","value":"b"}]';
      expect(refusal(() => query({ tags, tag: 'site' })).parameter).toBe('tags');
      expect(refusal(() => query({ tags, 'tag.name': 'site' })).parameter).toBe('tags');
      expect(refusal(() => query({ tags, 'tag.value': 'x' })).parameter).toMatch(/^tag/);
    });
  });

  describe('tags criteria', () => {
    it('reads a JSON array of criteria with every operator', () => {
      const criteria = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'].map((operator, i) => ({
        name: `n${i}`,
        operator,
        value: `v${i}`,
      }));
      expect(query({ tags: JSON.stringify(criteria) }).tagCriteria).toEqual(criteria);
    });

    it('takes a lone criterion object as a list of one and an empty list as no criteria', () => {
      expect(query({ tags: '{"name":"a","operator":"eq","value":"b"}' }).tagCriteria).toEqual([
        { name: 'a', operator: 'eq', value: 'b' },
      ]);
      expect(query({ tags: '[]' }).tagCriteria).toEqual([]);
    });

    it('compares numbers given as values as strings', () => {
      const [criterion] = query({ tags: '[{"name":"floor","operator":"gte","value":3}]' }).tagCriteria!;
      expect(criterion?.value).toBe('3');
    });

    it('refuses text that is not a JSON list or object of criteria, naming "tags"', () => {
      for (const tags of ['not json', '', '5', '"eq"', 'null', 'true']) {
        expect(refusal(() => query({ tags })).parameter, tags).toBe('tags');
      }
    });

    it('refuses more than 50 criteria', () => {
      const many = Array.from({ length: 51 }, () => ({ name: 'a', operator: 'eq', value: 'b' }));
      expect(refusal(() => query({ tags: JSON.stringify(many) })).message).toMatch(/at most 50/);
    });

    it('names the criterion and field at fault', () => {
      const ok = { name: 'a', operator: 'eq', value: 'b' };
      const cases: [unknown, string][] = [
        [{ ...ok, name: '' }, 'tags[1].name'],
        [{ operator: 'eq', value: 'b' }, 'tags[1].name'],
        [{ ...ok, operator: 'like' }, 'tags[1].operator'],
        [{ ...ok, operator: 'EQ' }, 'tags[1].operator'],
        [{ name: 'a', value: 'b' }, 'tags[1].operator'],
        [{ ...ok, value: true }, 'tags[1].value'],
        [{ name: 'a', operator: 'eq' }, 'tags[1].value'],
        [null, 'tags[1]'],
        ['a', 'tags[1]'],
        [[ok], 'tags[1]'],
      ];
      for (const [criterion, parameter] of cases) {
        const error = refusal(() => query({ tags: JSON.stringify([ok, criterion]) }));
        expect(error.parameter, JSON.stringify(criterion)).toBe(parameter);
      }
    });
  });
});

describe('parseOrder', () => {
  it('lists by lastseen, newest first, by default', () => {
    expect(parseOrder(undefined)).toEqual([{ field: 'lastseen', descending: true }]);
  });

  it('sorts ascending unless the key ends in .desc', () => {
    expect(parseOrder('identity')).toEqual([{ field: 'identity', descending: false }]);
    expect(parseOrder('lastip.asc')).toEqual([{ field: 'lastip', descending: false }]);
    expect(parseOrder('lastseen.desc')).toEqual([{ field: 'lastseen', descending: true }]);
  });

  it('reads a list of keys in order', () => {
    expect(parseOrder(['lastip.desc', 'identity'])).toEqual([
      { field: 'lastip', descending: true },
      { field: 'identity', descending: false },
    ]);
  });

  it('orders by the state of a resource with state.<alias>', () => {
    expect(parseOrder('state.temp.desc')).toEqual([{ field: 'state', resource: 'temp', descending: true }]);
    expect(parseOrder(['state.temp', 'identity.desc'])).toEqual([
      { field: 'state', resource: 'temp', descending: false },
      { field: 'identity', descending: true },
    ]);
  });

  it('reads resources named like a direction as resources', () => {
    expect(parseOrder('state.desc')).toEqual([{ field: 'state', resource: 'desc', descending: false }]);
    expect(parseOrder('state.asc.desc')).toEqual([{ field: 'state', resource: 'asc', descending: true }]);
  });

  it('refuses keys it cannot order by, naming the key', () => {
    expect(refusal(() => parseOrder('state')).parameter).toBe('order');
    expect(refusal(() => parseOrder('status.desc')).parameter).toBe('order');
    expect(refusal(() => parseOrder(['identity', 'lastseen.up'])).parameter).toBe('order[1]');
  });
});

describe('identity pattern complexity', () => {
  it('refuses a pattern whose RE2 program is too large to run against every identity', () => {
    expect(() => parseIdentityQuery({ identity: '[\\s\\S]{1000}x' }, 0)).toThrow(
      /parameter "identity": is too complex/,
    );
    expect(
      parseIdentityQuery(
        { identity: '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' },
        0,
      ).identityPattern,
    ).toBeDefined();
  });
});
