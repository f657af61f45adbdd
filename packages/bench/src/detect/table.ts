import { describeMachine } from '../machine.ts';
import type { HeadlineRow } from '../publish.ts';
import type { DetectBenchResults, DetectorRow, RedactionRow, TilingRow } from './results.ts';
import type { Spread } from './stats.ts';

const fixed = (digits: number) => (v: number) => v.toFixed(digits);
const ms = fixed(1);
const two = fixed(2);
const times = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}x`);
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const spreadMs = (s: Spread) => `${ms(s.p50)} / ${ms(s.p95)}`;
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** Plainly, whether tiling found more of the labelled objects than one letterboxed pass, and at what cost. */
export function tilingVerdict(off: TilingRow, auto: TilingRow): string {
  const a = off.accuracy;
  const b = auto.accuracy;
  const objects = a.tp + a.fn;
  const more = b.tp - a.tp;
  const falses = b.fp - a.fp;
  const recall = `recall ${pct(a.recall)} → ${pct(b.recall)}`;
  const fp = falses === 0 ? 'no change in false positives' : `${signed(falses)} false positive(s)`;
  const cost = `at ${times(auto.latencyVsOff)} the latency (${auto.passesPerFrame.toFixed(1)} passes a frame)`;
  if (more > 0 && falses <= more) {
    return `tiling **helped**: ${more} more of the ${objects} labelled objects found (${recall}), ${fp}, ${cost}.`;
  }
  if (more > 0) {
    return `tiling **helped recall but cost precision**: ${more} more of the ${objects} labelled objects found (${recall}), ${fp}, ${cost}.`;
  }
  if (more === 0) {
    return `tiling **did not help**: the same ${b.tp} of ${objects} labelled objects found, ${fp}, ${cost}.`;
  }
  return `tiling **hurt**: ${-more} fewer of the ${objects} labelled objects found (${recall}), ${fp}, ${cost}.`;
}

/** Whether a redaction cost meets the goal, said of both the median and the tail. */
export function goalVerdict(total: Spread, goalMs: number): string {
  const p = `p50 ${ms(total.p50)} ms, p95 ${ms(total.p95)} ms`;
  if (total.p95 < goalMs) return `**meets** the goal of under ${goalMs} ms (${p})`;
  if (total.p50 < goalMs) return `**meets** the goal of under ${goalMs} ms at p50 but **not at p95** (${p})`;
  return `**misses** the goal of under ${goalMs} ms (${p})`;
}

const mapped = (classMap: Readonly<Record<string, string>>) =>
  Object.entries(classMap)
    .map(([from, to]) => `${from}→${to}`)
    .join(', ');

function detectorRow(r: DetectorRow): string {
  const name = r.experimental ? `${r.id} (experimental)` : r.id;
  const head = `| ${name} | ${two(r.scoreThreshold)} | ${spreadMs(r.latencyMs)} | ${ms(r.inferMs.p50)} | ${times(r.latencyVsBaseline)} | ${r.detectionsPerFrame.toFixed(1)}`;
  if (r.faces) return `${head} | ${r.faces.found} faces on ${r.faces.photos} face photos | — | — | — | — |`;
  if (!r.scoredOn || !r.accuracy) return `${head} | — | — | — | — | — |`;
  const m = mapped(r.scoredOn.classMap);
  const a = r.accuracy;
  return `${head} | ${r.scoredOn.images} labelled images, ${r.scoredOn.boxes} boxes${m ? ` (${m})` : ''} | ${a.tp} / ${a.fp} / ${a.fn} | ${two(a.precision)} | ${two(a.recall)} | ${fixed(3)(a.ap50)} |`;
}

const tilingRow = (r: TilingRow) =>
  `| ${r.id} | ${r.tiling} | ${r.passesPerFrame.toFixed(1)} | ${spreadMs(r.latencyMs)} | ${times(r.latencyVsOff)} | ${r.accuracy.tp} / ${r.accuracy.fp} / ${r.accuracy.fn} | ${two(r.accuracy.precision)} | ${two(r.accuracy.recall)} |`;

const redactionRow = (r: RedactionRow) =>
  `| ${r.images} | ${r.payload} | ${r.samples} | **${spreadMs(r.redactionMs)}** | ${r.payloadsWithFaces} | ${r.facesObscured} | ${r.residual.found} → ${r.residual.stillFound} |`;

/** The bench's section of docs/benchmarks.md: every figure comes from `results`. */
export function detectTable(r: DetectBenchResults): string {
  const s = r.settings;
  const sets = Object.entries(s.sets)
    .map(([set, n]) => `${n} ${set}`)
    .join(', ');
  const baseline = r.detectors.find((d) => d.id === r.baseline);
  const tilingIds = [...new Set(r.tiling.map((t) => t.id))];
  const kitti = r.tiling[0];
  const c = r.cascade;
  const all = c.rows.at(-1);
  const pc = r.privacyCost;
  const pa = r.privacyAccuracy;
  const residual = residualOf(r, FACE_PHOTOS);
  const others = residualOf(r, OTHERS);
  const goalRows = pc.rows.filter((x) => x.payload.includes(`${pc.goal.shortSide} px`));
  return [
    `Produced by \`${r.command}\` on ${describeMachine(r.machine)}, ${r.machine.date.slice(0, 10)}, in ${r.runtimeS.toFixed(0)} s: ${s.frames} detection sample images (${sets}), ${s.limit} ImageNet sample images (one in ${s.stride}), ${s.runs} latency runs, ${s.threads} onnxruntime thread(s) per session.`,
    '',
    `**1. Detectors.** \`detect()\` on a decoded frame, end to end (resize, session run, decoding, NMS), over ${s.frames} images × ${s.runs} runs; *vs ${r.baseline}* is latency p50 over ${r.baseline}'s${baseline ? ` (${ms(baseline.latencyMs.p50)} ms)` : ''}, the baseline. Detections, TP / FP / FN, precision and recall at each model's own threshold; AP@0.5 ranks every detection down to ${s.apFloor}.`,
    '',
    `| model | score ≥ | latency p50 / p95 ms | session p50 ms | vs ${r.baseline} | detections / frame | scored on | TP / FP / FN | precision | recall | AP@0.5 |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.detectors.map(detectorRow),
    '',
    `**2. Tiling** (whole frame plus overlapping square tiles, merged by NMS) on the ${kitti?.frames ?? 0} KITTI frames; accuracy on the ${kitti?.labelledFrames ?? 0} labelled ones at the model's threshold; *vs off* is latency p50 over the same model with tiling off.`,
    '',
    '| model | tiling | passes / frame | latency p50 / p95 ms | vs off | TP / FP / FN | precision | recall |',
    '|---|---|---|---|---|---|---|---|',
    ...r.tiling.map(tilingRow),
    '',
    ...tilingIds.map((id) => {
      const off = r.tiling.find((t) => t.id === id && t.tiling === 'off');
      const auto = r.tiling.find((t) => t.id === id && t.tiling === 'auto');
      return off && auto ? `- ${id}: ${tilingVerdict(off, auto)}` : `- ${id}: not measured`;
    }),
    '',
    `**3. Object-level cascade**, every frame as the detect agent handles it: ${c.detector}, detections ≥ ${two(c.detect.confident)} stay local, those in [${two(c.detect.uncertain)}, ${two(c.detect.confident)}) send their square crop (padding ${c.detect.cropPadding}, ${c.cloudView.centerCrop}², at most ${c.detect.maxCrops} a frame) to be verified, a frame with nothing reported but a candidate ≥ ${two(c.detect.emptyFrame)} sends the frame at ${c.cloudView.resizeShortSide} px short side; tiling ${c.detect.tiling}; privacy faces ${c.privacy.faces} (${c.privacy.faceModel} at ${c.privacy.faceThreshold}, padding ${c.privacy.facePadding}); JPEG q${c.quality}. Baseline: every frame as captured; also every frame as a q${c.quality} JPEG at ${c.cloudView.resizeShortSide} px short side through the same privacy guard.`,
    '',
    `| set | frames | kept local | crops sent | frames sent | face boxes obscured | every frame as captured | every frame q${c.quality} @${c.cloudView.resizeShortSide} | cascade | cascade / captured | cascade / q${c.quality} @${c.cloudView.resizeShortSide} |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...c.rows.map((x) => {
      const set = x.set === 'all' ? '**all**' : x.set;
      return `| ${set} | ${x.frames} | ${x.local} | ${x.crops} | ${x.framePayloads} | ${x.facesObscured} | ${kb(x.capturedBytes)} | ${kb(x.frameQ85Bytes)} | ${kb(x.cascadeBytes)} | **${pct(x.vsCaptured)}** | ${pct(x.vsFrameQ85)} |`;
    }),
    '',
    all
      ? `Over all ${all.frames} frames the cascade sends ${kb(all.cascadeBytes)} (${all.crops} crops, ${all.framePayloads} frames; ${all.local} frames send nothing): **${pct(all.vsCaptured)}** of the frames as captured and ${pct(all.vsFrameQ85)} of every frame at q${c.quality} @${c.cloudView.resizeShortSide}.`
      : '',
    '',
    `**4. Privacy cost** per payload with ${pc.faceModel} (${pc.faceThreads} onnxruntime threads, as the agent runs it; faces blurred or pixelated): the face search on the payload itself plus the obscuring (render with redaction − render without), images × ${s.runs} runs, ${pc.encoding.codec} q${pc.encoding.quality} (the classify agent's payload). Residual, checked by face models the redaction did not use (${pc.auditors.join(', ')}): faces they find at ≥ ${two(pc.residualThreshold)} on the unredacted payload → of those, found again at ≥ ${two(pc.residualThreshold)} (IoU ≥ ${pc.residualIou}) on the redacted one (a leak).`,
    '',
    '| images | payload | samples | redaction p50 / p95 ms | payloads with faces | face boxes obscured | residual |',
    '|---|---|---|---|---|---|---|',
    ...pc.rows.map(redactionRow),
    '',
    ...goalRows.map((x) => `- ${x.images}, ${x.payload}: ${goalVerdict(x.redactionMs, pc.goal.ms)}.`),
    `- Residual check on the face photos: of ${residual.found} faces found on the unredacted payloads, **${residual.still}** are still found after redaction. On the other images, ${others.still} of ${others.found}: most are animals' faces, which the human check spares on purpose (section 5 shows what the cloud loses where it does redact); \`npm run bench:privacy\` audits people's faces per payload kind.`,
    '',
    `**5. Privacy and cloud accuracy**: ${pa.classifier} top-1 on ${pa.images} ImageNet sample images spread over the set given the ${c.cloudView.centerCrop} crop payload (${pc.encoding.codec} q${pc.encoding.quality}) with faces off, blurred or pixelated (at the default face threshold ${c.privacy.faceThreshold}, and in the default mode, ${c.privacy.faces}, at other thresholds). At the default, a face was obscured in ${pa.payloadsWithFaces} of the ${pa.images} crops.`,
    '',
    `| faces | cloud top-1 | vs plain | top-1 on the ${pa.payloadsWithFaces} crops with a face obscured | top-1 on the other ${pa.images - pa.payloadsWithFaces} | bytes / payload |`,
    '|---|---|---|---|---|---|',
    ...pa.rows.map(
      (x) =>
        `| ${x.faces === 'off' ? 'off (plain)' : x.faces} | **${pct(x.top1)}** | ${times(x.vsPlain)} | ${pct(x.top1WithFaces)} | ${pct(x.top1Others)} | ${kb(x.meanBytes)} |`,
    ),
    '',
    ...Object.entries(pa.changed).map(
      ([mode, c]) =>
        `- ${mode}: right plain and wrong redacted: ${c.lost.join(', ') || 'none'}; the other way: ${c.gained.join(', ') || 'none'}.`,
    ),
    '',
  ].join('\n');
}

/**
 * The residual check over one set of images: people's faces on the face photos; on ImageNet most
 * of what the auditor finds and still finds are animals' faces, which the human check spares.
 */
const residualOf = (r: DetectBenchResults, images: (name: string) => boolean) =>
  r.privacyCost.rows
    .filter((x) => images(x.images))
    .reduce((t, x) => ({ found: t.found + x.residual.found, still: t.still + x.residual.stillFound }), {
      found: 0,
      still: 0,
    });
const FACE_PHOTOS = (name: string) => name === 'face photos';
const OTHERS = (name: string) => name !== 'face photos';

/** The detection bench's rows of the README's headline table. */
export function detectHeadline(r: DetectBenchResults): HeadlineRow[] {
  const c = r.cascade;
  const pc = r.privacyCost;
  const mode = c.privacy.faces;
  const all = c.rows.at(-1);
  // The goal's payload in the default mode, on the last (largest) set of images measured.
  const cost = pc.rows.findLast(
    (x) => x.payload.includes(`${pc.goal.shortSide} px`) && x.payload.endsWith(mode),
  );
  const residual = residualOf(r, FACE_PHOTOS);
  const plain = r.privacyAccuracy.rows.find((x) => x.faces === 'off');
  const redacted = r.privacyAccuracy.rows.find((x) => x.faces === mode);
  return [
    ...(all
      ? [
          {
            figure: `Uplink of the object-level detect cascade (${c.detector}, ${all.frames} frames), of every frame as captured`,
            value: pct(all.vsCaptured),
          },
        ]
      : []),
    ...(cost
      ? [
          {
            figure: `Time face redaction (${mode}) adds to a ${cost.payload.replace(`, ${mode}`, '')}, p50 / p95`,
            value: `${spreadMs(cost.redactionMs)} ms`,
          },
        ]
      : []),
    {
      figure: `Faces on the face photos still found after redaction by ${pc.auditors.join(' and ')} (not used to redact)`,
      value: `${residual.still} of ${residual.found}`,
    },
    ...(plain && redacted
      ? [
          {
            figure: `Cloud top-1 on ${c.cloudView.centerCrop} crops, faces redacted (${mode}) against not`,
            value: `${pct(redacted.top1)} against ${pct(plain.top1)}`,
          },
        ]
      : []),
  ];
}
