import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BASE_FEATURES,
  computeEdgeSignals,
  createEdgeAgent,
  createPolicy,
  deferralScore,
  extraPassesFor,
  type FrameRecord,
  fitScorer,
  joinSignals,
  MissingExtraError,
  mirrorView,
  type OpenedExtraPasses,
  openDirectorySource,
  openExtraPasses,
  openFrameSource,
  pooledEdgeModel,
  SignalsMissingError,
} from '@squeezegate/edge';
import {
  confidences,
  createOnnxClassifier,
  type LearnedRule,
  LearnedRuleSchema,
  type PolicyConfig,
  PolicySchema,
  resolveModel,
  toModelView,
} from '@squeezegate/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir } from '../../../../test/support/env.ts';

const IMAGES = ['n01440764_tench.jpg', 'n01443537_goldfish.jpg', 'n01530575_brambling.jpg'];

/** A rule that reads every extra feature, with weights of both signs so each one moves the score. */
const rule: LearnedRule = LearnedRuleSchema.parse({
  features: [...BASE_FEATURES, 'flipAgree', 'flipP', 'altAgree', 'altP', 'altP1'],
  mean: [...BASE_FEATURES.map(() => 0.2), 0.5, 0.3, 0.5, 0.3, 0.4],
  std: [...BASE_FEATURES.map(() => 0.3), 0.5, 0.3, 0.5, 0.3, 0.3],
  weights: [...BASE_FEATURES.map((_, i) => (i % 2 ? 0.4 : -0.7)), -1.1, -0.9, -0.8, -1.3, 0.6],
  bias: -0.2,
});

describe('mirrorView', () => {
  it('reverses each row pixel by pixel and is its own inverse', () => {
    // 2×2: [A B / C D] → [B A / D C]
    const pixels = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const m = mirrorView({ pixels, size: 2 });
    expect([...m.pixels]).toEqual([4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
    expect([...mirrorView(m).pixels]).toEqual([...pixels]);
  });
});

describe('learned policy with extra passes', () => {
  it('names the passes its features need, and throws when they were not run', () => {
    const config = PolicySchema.parse({ kind: 'learned', rule });
    expect(extraPassesFor(config)).toEqual({
      flip: true,
      alt: true,
      altModel: 'squeezenet1.0-deepcompression',
    });
    const flipOnly = PolicySchema.parse({
      kind: 'learned',
      rule: { features: ['p1', 'flipP'], mean: [0, 0], std: [1, 1], weights: [-1, -1], bias: 0 },
    });
    expect(extraPassesFor(flipOnly)).toEqual({ flip: true, alt: false, altModel: null });
    expect(extraPassesFor(PolicySchema.parse({ kind: 'threshold' }))).toBeNull();
    const probs = new Float32Array(1000).fill(0.5 / 999);
    probs[3] = 0.5;
    expect(() => createPolicy(config).decide({ probs, confidence: confidences(probs) }, 0)).toThrow(
      MissingExtraError,
    );
  });

  it("a fitted signal scorer's policy fragment offloads exactly the frames it scores at or below the threshold", () => {
    const frames = Array.from({ length: 40 }, (_, i) => {
      const edge = new Float32Array(10).fill(0);
      edge[i % 10] = 0.2 + (0.75 * ((i * 7) % 40)) / 40;
      edge[(i + 1) % 10] = 1 - edge[i % 10]!;
      const alt = new Float32Array(10).fill(0.05);
      alt[i % 10] = ((i * 13) % 40) / 80;
      return {
        name: `f${i}`,
        truth: i % 3 === 0 ? (i + 5) % 10 : i % 10,
        capturedBytes: 100,
        edge,
        cloud: { captured: { top1: i % 10, p: 0.9, bytes: 100 } },
        signals: { flip: edge, alt, pooled: new Float32Array(4) },
      };
    });
    for (const scorer of ['alt', 'flip+alt', 'learned+agree'] as const) {
      const fitted = fitScorer(scorer, frames, 'captured');
      const scores = frames.map((f) => fitted.score(f)).sort((a, b) => a - b);
      const threshold = scores[17]!;
      const config = PolicySchema.parse(fitted.policyFor(threshold));
      const policy = createPolicy(config);
      for (const f of frames) {
        const decision = policy.decide(
          { probs: f.edge, confidence: confidences(f.edge), extras: f.signals },
          0,
        );
        expect(decision.kind).toBe(fitted.score(f) <= threshold + 1e-12 ? 'offload' : 'local');
      }
      expect(frames.filter((f) => fitted.score(f) <= threshold).length).toBeGreaterThanOrEqual(18);
    }
    expect(() => fitScorer('learned+pooled', frames, 'captured').policyFor(0.5)).toThrow(SignalsMissingError);
  });

  it('a signal scorer refuses frames without signals', () => {
    const probs = new Float32Array(10).fill(0.1);
    const frame = {
      name: 'x',
      truth: 0,
      capturedBytes: 1,
      edge: probs,
      cloud: { captured: { top1: 0, p: 1, bytes: 1 } },
    };
    expect(() => fitScorer('flip', [frame], 'captured').score(frame)).toThrow(SignalsMissingError);
  });
});

describe.runIf(haveRealModels)('edge signals on real models', () => {
  it('the agent scores a frame exactly as the bench cached it, and the cache reads back the same', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-signals-'));
    const images = path.join(dir, 'images');
    const cacheDir = path.join(dir, 'cache');
    await mkdir(images);
    for (const f of IMAGES) await copyFile(path.join(datasetDir, f), path.join(images, f));
    await writeFile(
      path.join(images, 'manifest.csv'),
      `file,class_index\n${IMAGES.map((f, i) => `${f},${i}`).join('\n')}\n`,
    );
    const edgeFile = await resolveModel('squeezenet1.1', modelsDir);
    await using edge = await createOnnxClassifier(edgeFile);
    await using pooled = await pooledEdgeModel({ ...edgeFile, cacheDir });
    await using alt = await createOnnxClassifier(
      await resolveModel('squeezenet1.0-deepcompression', modelsDir),
    );
    const { frames } = await openDirectorySource({ dir: images });
    const first = await computeEdgeSignals({ frames, edge: pooled, alt, cacheDir, pooled: true });
    const again = await computeEdgeSignals({ frames, edge: pooled, alt, cacheDir, pooled: true });
    // Without the pooled output (as calibrate runs it): the same cached passes, no activations.
    const plainRun = await computeEdgeSignals({ frames, edge, alt, cacheDir });
    // The bench's view of each frame: the edge's probabilities as predictSet computes them.
    const predictions = [];
    for (const frame of frames) {
      const view = await toModelView(frame.file, { preprocess: edge.spec.preprocess });
      const [plain] = await edge.classify([view]);
      const [withPooled] = await pooled.classify([view]);
      // Exposing the pooled activations leaves the logits untouched.
      expect([...withPooled!.probs]).toEqual([...plain!.probs]);
      expect(withPooled!.features).toHaveLength(512);
      const s = first.get(frame.name)!;
      expect([...again.get(frame.name)!.flip]).toEqual([...s.flip]);
      expect([...again.get(frame.name)!.alt]).toEqual([...s.alt]);
      expect([...again.get(frame.name)!.pooled!]).toEqual([...s.pooled!]);
      expect(plainRun.get(frame.name)!.pooled).toBeNull();
      expect([...plainRun.get(frame.name)!.flip]).toEqual([...s.flip]);
      // The mirrored pass differs from the straight one (a real second opinion, not a copy).
      expect([...s.flip]).not.toEqual([...plain!.probs]);
      predictions.push({
        name: frame.name,
        truth: frame.truth,
        capturedBytes: 0,
        edge: plain!.probs,
        cloud: { captured: { top1: 0, p: 1, bytes: 0 } },
      });
    }
    const joined = joinSignals(predictions, again);
    const benchScores = joined.map((p) => deferralScore(rule, p.edge, p.signals));

    const config = PolicySchema.parse({ kind: 'learned', rule, threshold: 0.5 });
    await using passes = await openExtraPasses({ config, modelsDir });
    expect(passes?.alt?.spec.id).toBe('squeezenet1.0-deepcompression');
    expect(passes?.needs).toEqual({ flip: true, alt: true });
    const runAgent = async (policy: PolicyConfig, extraPasses: OpenedExtraPasses | null) => {
      const records: FrameRecord[] = [];
      const agent = createEdgeAgent({
        deviceId: 'cam-signals',
        classifier: edge,
        labels: Array.from({ length: 1000 }, (_, i) => `c${i}`),
        link: null,
        policy: createPolicy(policy),
        extraPasses,
        payload: { kind: 'crop', codec: 'jpeg', quality: 80 },
        deadlineMs: 1000,
        maxInFlight: 1,
        logger: pino({ level: 'silent' }),
        onRecord: (r) => records.push(r),
      });
      await agent.run(
        await openFrameSource({
          logger: pino({ level: 'silent' }),
          scale: { shortSide: 256 },
          source: images,
        }),
      );
      expect(records).toHaveLength(IMAGES.length);
      return records.sort((a, b) => a.seq - b.seq).map((r) => (r.decision as { value?: number }).value);
    };
    const values = await runAgent(config, passes);
    expect(values.every((v) => typeof v === 'number')).toBe(true);
    values.forEach((v, i) => {
      expect(v).toBeCloseTo(benchScores[i]!, 9);
    });
    // The scores are not all alike, so the equality above says something.
    expect(Math.max(...benchScores) - Math.min(...benchScores)).toBeGreaterThan(1e-3);

    // A rule on flip features needs no other model: the agent runs the mirrored pass itself.
    const flipRule = LearnedRuleSchema.parse({
      features: ['p1', 'flipP'],
      mean: [0, 0],
      std: [1, 1],
      weights: [-2, -3],
      bias: 1,
    });
    const flipConfig = PolicySchema.parse({ kind: 'learned', rule: flipRule });
    expect(await openExtraPasses({ config: flipConfig, modelsDir })).toMatchObject({ alt: null });
    const flipValues = await runAgent(flipConfig, null);
    flipValues.forEach((v, i) => {
      expect(v).toBeCloseTo(deferralScore(flipRule, joined[i]!.edge, joined[i]!.signals), 9);
    });
    // A rule on alt features without its model is refused when the agent is made.
    await expect(runAgent(config, null)).rejects.toThrow(MissingExtraError);
  });
});
