/**
 * The pattern matcher behind `npm run tail -- --pattern`, on the examples of AWS's
 * "Content filtering in Amazon EventBridge event patterns" page, operator by operator, and
 * the sample rules of docs/eventbridge.md on the examples beside them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETAIL_SCHEMAS, DETAIL_TYPES } from '../shared/bus/bus-events.ts';
import { InvalidPatternError, matchesPattern, parsePattern } from '../shared/bus/event-pattern.ts';

const matches = (pattern: unknown, event: unknown) =>
  matchesPattern(parsePattern(JSON.stringify(pattern)), event);

/** The EC2 state-change event the AWS pages use, with the fields their examples filter on. */
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 4,
    'x-limit': 301.8,
    sourceIPAddress: '10.0.0.123',
    FileName: 'image.png',
    FilePath: 'dir/lib/file.js',
    service: 'EventBridge',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...ec2Event, detail });

describe('event patterns', () => {
  it('matches exact values, ANDs fields and ORs the values of one field', () => {
    expect(matches({ source: ['aws.ec2'], detail: { state: ['terminated'] } }, ec2Event)).toBe(
      true,
    );
    expect(matches({ source: ['aws.ec2'], detail: { state: ['running'] } }, ec2Event)).toBe(false);
    expect(matches({ detail: { state: ['running', 'terminated'] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'c-count': [5] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'c-count': ['5'] } }, ec2Event)).toBe(false);
    expect(matches({ detail: { missing: ['x'] } }, ec2Event)).toBe(false);
  });

  it('matches an event array when any element matches (resources)', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0',
      ],
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches({ resources: ['arn:other'] }, ec2Event)).toBe(false);
    expect(
      matches(
        { detail: { items: { id: ['b'] } } },
        withDetail({ items: [{ id: 'a' }, { id: 'b' }] }),
      ),
    ).toBe(true);
  });

  it('matches empty strings and null', () => {
    expect(matches({ detail: { LastName: [''] } }, withDetail({ LastName: '' }))).toBe(true);
    expect(matches({ detail: { UserID: [null] } }, withDetail({ UserID: null }))).toBe(true);
    expect(matches({ detail: { UserID: [null] } }, withDetail({ UserID: 'x' }))).toBe(false);
  });

  it('prefix, also ignoring case', () => {
    expect(matches({ time: [{ prefix: '2017-12-22' }] }, ec2Event)).toBe(true);
    expect(matches({ time: [{ prefix: '2017-10-02' }] }, ec2Event)).toBe(false);
    const ignoreCase = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    expect(matches(ignoreCase, ec2Event)).toBe(true);
    expect(matches(ignoreCase, withDetail({ service: 'EVENTBRIDGE' }))).toBe(true);
    expect(matches({ detail: { service: [{ prefix: 'eventb' }] } }, ec2Event)).toBe(false);
  });

  it('suffix, also ignoring case', () => {
    expect(matches({ detail: { FileName: [{ suffix: '.png' }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { FileName: [{ suffix: '.PNG' }] } }, ec2Event)).toBe(false);
    const ignoreCase = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.PNG' } }] } };
    expect(matches(ignoreCase, ec2Event)).toBe(true);
  });

  it('anything-but: a value, a list, a prefix, a suffix, ignoring case, a wildcard', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2Event)).toBe(
      true,
    );
    expect(matches({ detail: { state: [{ 'anything-but': 'terminated' }] } }, ec2Event)).toBe(
      false,
    );
    expect(matches({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ 'anything-but': 5 }] } }, ec2Event)).toBe(false);
    const list = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matches(list, ec2Event)).toBe(true);
    expect(matches(list, withDetail({ state: 'stopped' }))).toBe(false);
    const prefix = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matches(prefix, ec2Event)).toBe(true);
    expect(matches(prefix, withDetail({ state: 'initializing' }))).toBe(false);
    const suffix = { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } };
    expect(matches(suffix, ec2Event)).toBe(true);
    expect(matches(suffix, withDetail({ FileName: 'notes.txt' }))).toBe(false);
    const ignoreCase = {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] },
    };
    expect(matches(ignoreCase, ec2Event)).toBe(true);
    expect(matches(ignoreCase, withDetail({ state: 'STOPPED' }))).toBe(false);
    const wildcard = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matches(wildcard, ec2Event)).toBe(false);
    expect(matches(wildcard, withDetail({ FilePath: 'dir/src/file.js' }))).toBe(true);
    // A missing field is not "anything but" a value: it is not there to match.
    expect(matches({ detail: { absent: [{ 'anything-but': 'x' }] } }, ec2Event)).toBe(false);
  });

  it('numeric ranges and equality', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches(pattern, withDetail({ ...ec2Event.detail, 'c-count': 6 }))).toBe(false);
    expect(matches(pattern, withDetail({ ...ec2Event.detail, 'c-count': 0 }))).toBe(false);
    expect(matches(pattern, withDetail({ ...ec2Event.detail, 'c-count': '5' }))).toBe(false);
  });

  it('IP address ranges (cidr)', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches(pattern, withDetail({ sourceIPAddress: '10.0.1.1' }))).toBe(false);
  });

  it('exists, true and false, on leaves', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, ec2Event)).toBe(false);
    expect(matches({ detail: { absent: [{ exists: false }] } }, ec2Event)).toBe(true);
    expect(matches({ detail: { absent: [{ exists: true }] } }, ec2Event)).toBe(false);
    expect(matches({ nothing: { here: [{ exists: false }] } }, ec2Event)).toBe(true);
  });

  it('equals-ignore-case', () => {
    const pattern = {
      'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }],
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches({ 'detail-type': [{ 'equals-ignore-case': 'ec2' }] }, ec2Event)).toBe(false);
  });

  it('wildcard, with an escaped star', () => {
    const pattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    const bus = { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' };
    expect(matches(pattern, bus)).toBe(true);
    expect(matches(pattern, { EventBusArn: 'arn:aws:events:eu-west-1:1:event-bus/x' })).toBe(false);
    expect(matches({ name: [{ wildcard: 'a\\*b' }] }, { name: 'a*b' })).toBe(true);
    expect(matches({ name: [{ wildcard: 'a\\*b' }] }, { name: 'axxb' })).toBe(false);
  });

  it('$or between sub-patterns', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matches(pattern, ec2Event)).toBe(true);
    expect(matches(pattern, withDetail({ 'c-count': 9, 'd-count': 10, 'x-limit': 1 }))).toBe(false);
    expect(matches(pattern, withDetail({ 'c-count': 9, 'd-count': 3 }))).toBe(true);
    const topLevel = {
      source: ['aws.ec2'],
      $or: [{ region: ['eu-west-1'] }, { detail: { state: ['terminated'] } }],
    };
    expect(matches(topLevel, ec2Event)).toBe(true);
  });

  it('refuses malformed patterns with a message saying what is expected', () => {
    for (const text of [
      'not json',
      '["source"]',
      '{"source": "aws.ec2"}',
      '{"source": []}',
      '{"source": [{"prefx": "a"}]}',
      '{"n": [{"numeric": [">", "5"]}]}',
      '{"n": [{"numeric": ["<", 5, ">", 1]}]}',
      '{"$or": [{"a": ["b"]}]}',
      '{"s": [{"exists": "yes"}]}',
    ]) {
      expect(() => parsePattern(text), text).toThrow(InvalidPatternError);
    }
  });
});

describe('the sample rules of docs/eventbridge.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'eventbridge.md'), 'utf8');
  const sections = [
    ...doc.matchAll(/^### (.+)\n[\s\S]*?```json\n([\s\S]*?)\n```[\s\S]*?```json\n(.*)\n```/gm),
  ];

  it('documents every detail-type with an example that its schema accepts', () => {
    expect(sections.map(([, type]) => type).sort()).toEqual([...DETAIL_TYPES].sort());
    for (const [, type = '', example = ''] of sections) {
      const schema = DETAIL_SCHEMAS[type as keyof typeof DETAIL_SCHEMAS]();
      expect(() => schema.parse(JSON.parse(example)), type).not.toThrow();
    }
  });

  it.each(sections.map(([, type = '', example = '', pattern = '']) => [type, example, pattern]))(
    'the %s rule matches its example, and no other type',
    (type, example, pattern) => {
      const rule = parsePattern(pattern);
      const event = (detailType: string) => ({
        ...ec2Event,
        source: 'datasaur.webhooks',
        'detail-type': detailType,
        detail: JSON.parse(example),
      });
      expect(matchesPattern(rule, event(type))).toBe(true);
      expect(matchesPattern(rule, event('Something Else'))).toBe(false);
    },
  );
});
