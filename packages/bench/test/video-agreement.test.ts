import type { Box } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import {
  agreement,
  answerAgreement,
  type FrameOutcome,
  frameF1,
  isInferred,
  type LabelledBox,
} from '../src/video/agreement.ts';
import { classifyOutcome, decisionKind, detectOutcome } from '../src/video/outcomes.ts';

const obj = (label: string, box: Box): LabelledBox => ({ label, box });
const car = (x: number) => obj('car', [x, 0, x + 10, 10]);

const classify = (seq: number, index: number | null, kind: FrameOutcome['kind'] = 'local'): FrameOutcome => ({
  seq,
  kind,
  bytesSent: 0,
  payloads: 0,
  answer: { task: 'classify', index },
});
const detect = (seq: number, objects: LabelledBox[], kind: FrameOutcome['kind'] = 'local'): FrameOutcome => ({
  seq,
  kind,
  bytesSent: 0,
  payloads: 0,
  answer: { task: 'detect', objects },
});

describe('frameF1', () => {
  it('is 1 for two empty answers and 0 for one empty against a non-empty one', () => {
    expect(frameF1([], [])).toBe(1);
    expect(frameF1([car(0)], [])).toBe(0);
    expect(frameF1([], [car(0)])).toBe(0);
  });

  it('matches at IoU 0.5 and not below', () => {
    // Shifted by 3 of 10: IoU 70/130 = 0.54. By 4: 60/140 = 0.43.
    expect(frameF1([car(3)], [car(0)])).toBe(1);
    expect(frameF1([car(4)], [car(0)])).toBe(0);
  });

  it('needs the labels to match', () => {
    expect(frameF1([obj('truck', [0, 0, 10, 10])], [car(0)])).toBe(0);
  });

  it('counts each reference box once: 2 TP, 1 FP, 1 FN → F1 = 4/6', () => {
    const found = [car(0), car(1), car(100)];
    const reference = [car(0), car(101), car(300)];
    // car(0) and car(1) both overlap car(0): only one may take it.
    expect(frameF1(found, reference)).toBeCloseTo(4 / 6, 10);
  });

  it('pairs by highest IoU first, not by order', () => {
    // found[0] overlaps both references; greedy by order would give it ref[0] and leave found[1]
    // unmatched. By IoU, found[0] takes ref[1] (exact) and found[1] takes ref[0].
    const found = [obj('car', [5, 0, 15, 10]), obj('car', [0, 0, 9, 10])];
    const reference = [obj('car', [1, 0, 11, 10]), obj('car', [5, 0, 15, 10])];
    expect(frameF1(found, reference)).toBe(1);
  });
});

describe('agreement', () => {
  it('is the share of reference frames with the same label, matched by seq', () => {
    const reference = [classify(0, 1), classify(1, 1), classify(2, 2), classify(3, 2)];
    const gated = [classify(3, 2, 'reused'), classify(2, 1, 'reused'), classify(1, 1), classify(0, 1)];
    expect(agreement(gated, reference)).toBe(0.75);
  });

  it('scores a frame the gated run never recorded as 0, a dropped frame by the result it kept', () => {
    const reference = [classify(0, 1), classify(1, 1), classify(2, 1), classify(3, 1)];
    const gated = [classify(0, 1), classify(1, 1, 'dropped'), classify(2, 5, 'dropped')];
    expect(agreement(gated, reference)).toBe(0.5);
  });

  it('two frames without an answer agree', () => {
    expect(answerAgreement({ task: 'classify', index: null }, { task: 'classify', index: null })).toBe(1);
    expect(answerAgreement(undefined, { task: 'classify', index: null })).toBe(0);
  });

  it('averages the detect F1 over frames', () => {
    const reference = [detect(0, [car(0)]), detect(1, [car(0), car(50)]), detect(2, [])];
    const gated = [detect(0, [car(0)]), detect(1, [car(0)]), detect(2, [car(0)])];
    // 1, 2·1/(1+2) = 2/3, 0
    expect(agreement(gated, reference)).toBeCloseTo((1 + 2 / 3 + 0) / 3, 10);
  });

  it('has nothing to say without reference frames', () => {
    expect(agreement([classify(0, 1)], [])).toBeNull();
  });
});

describe('records to outcomes', () => {
  it('counts a frame as inferred unless reused, dropped or failed', () => {
    expect(
      ['local', 'offload', 'interrupted', 'reused', 'dropped', 'failed'].map((k) =>
        isInferred(decisionKind(k)),
      ),
    ).toEqual([true, true, true, false, false, false]);
  });

  it('refuses a decision kind it does not know', () => {
    expect(() => decisionKind('skipped')).toThrow(/unknown decision kind "skipped"/);
  });

  it('reads a classify record: one payload when an offload sent bytes', () => {
    const sent = classifyOutcome({
      seq: 4,
      bytesSent: 900,
      decision: { kind: 'offload' },
      final: { index: 7 },
    });
    expect(sent).toEqual({
      seq: 4,
      kind: 'offload',
      bytesSent: 900,
      payloads: 1,
      answer: { task: 'classify', index: 7 },
    });
    const withheld = classifyOutcome({
      seq: 5,
      bytesSent: 0,
      decision: { kind: 'offload' },
      final: { index: 7 },
    });
    expect(withheld.payloads).toBe(0);
    expect(
      classifyOutcome({ seq: 6, bytesSent: 0, decision: { kind: 'failed' }, final: null }).answer,
    ).toEqual({
      task: 'classify',
      index: null,
    });
  });

  it('reads a detect record: its payloads that left and its final boxes', () => {
    const o = detectOutcome({
      seq: 2,
      bytesSent: 3000,
      decision: { kind: 'offload' },
      detections: [{ box: [1, 2, 3, 4], label: 'person' }],
      offloads: [{ bytes: 1500 }, { bytes: 1500 }, { bytes: 0 }],
    });
    expect(o.payloads).toBe(2);
    expect(o.answer).toEqual({ task: 'detect', objects: [{ box: [1, 2, 3, 4], label: 'person' }] });
  });
});
