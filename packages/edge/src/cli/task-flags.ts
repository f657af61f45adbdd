/** parseArgs option specs for the detect task and the privacy guard. */
export const TASK_FLAGS = {
  task: { type: 'string' },
  detector: { type: 'string' },
  tiling: { type: 'string' },
  'min-score': { type: 'string' },
  confident: { type: 'string' },
  uncertain: { type: 'string' },
  'max-crops': { type: 'string' },
  'empty-frame': { type: 'string' },
  faces: { type: 'string' },
  'face-model': { type: 'string' },
  'face-threshold': { type: 'string' },
  mask: { type: 'string', multiple: true },
  'privacy-ledger': { type: 'string' },
  'payload-dump': { type: 'string' },
} as const;

export const TASK_HELP = `Task:
  --task <task>            classify | detect (default classify)
  --detector <id>          detect: yolox-nano-416 (default) | picodet-s-320 |
                           squeezedet-kitti-experimental (not the published weights, see docs/detection-and-privacy.md)
  --tiling <mode>          detect: off | auto — wide frames also run as overlapping squares (default off)
  --min-score <s>          detect: report a detection on the edge's own word at this score
                           (default: the model's threshold)
  --confident <s>          detect: detections at or above stay local, unverified (default 0.5)
  --uncertain <s>          detect: detections in [uncertain, confident) send their crop (default 0.2)
  --max-crops <n>          detect: crops a frame may send (default 3)
  --empty-frame <s>        detect: nothing found but a candidate ≥ s: send the downscaled frame (default 0.1)

Privacy (applied to every payload before it leaves):
  --faces <mode>           pixelate | blur | withhold (frames with faces never leave) | off (default pixelate)
  --face-model <ids>       face models joined by "+": yunet-s+ultraface-rfb320 (default: both, with a
                           human check that spares animals) | one of yunet-s, ultraface-rfb320,
                           ultraface-rfb640 (no check); \`squeezegate-edge audit\` checks with the others
  --face-threshold <s>     face score that gets redacted (default 0.5, below the usual 0.7: recall over precision)
  --mask <polygon>         black out a region in every payload, as x,y fractions of the frame:
                           --mask "0,0 0.4,0 0.4,0.3 0,0.3" (repeatable; config: privacy.masks)
  --privacy-ledger <file>  append one JSON line per payload that left (frame, bytes, reason, redactions)
  --payload-dump <dir>     write every payload that leaves, byte for byte, with a payloads.jsonl
                           index (cut region, redactions): see \`squeezegate-edge audit --help\`
`;

type Values = Record<string, unknown>;
const num = (v: unknown) => (v === undefined ? undefined : Number(v));
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** "x,y x,y x,y" → [[x,y], …]; unparsable points become NaN, which the schema reports. */
export function parsePolygon(text: string): number[][] {
  return text
    .trim()
    .split(/\s+/)
    .map((point) => point.split(',').map((v) => (v.trim() === '' ? Number.NaN : Number(v))));
}

/** The detect section from flags over the config file's. Unvalidated: the schema checks it. */
export function detectFromFlags(
  values: Values,
  base?: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const over = defined({
    model: values.detector,
    tiling: values.tiling,
    minScore: num(values['min-score']),
    confident: num(values.confident),
    uncertain: num(values.uncertain),
    maxCrops: num(values['max-crops']),
    emptyFrame: num(values['empty-frame']),
  });
  return Object.keys(over).length === 0 ? base : { ...base, ...over };
}

/** The privacy section from flags over the config file's. Unvalidated: the schema checks it. */
export function privacyFromFlags(
  values: Values,
  base?: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const masks = values.mask as string[] | undefined;
  const over = defined({
    faces: values.faces,
    faceModel: values['face-model'],
    faceThreshold: num(values['face-threshold']),
    masks: masks?.map(parsePolygon),
    ledger: values['privacy-ledger'],
    payloadDump: values['payload-dump'],
  });
  return Object.keys(over).length === 0 ? base : { ...base, ...over };
}
